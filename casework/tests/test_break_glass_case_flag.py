"""The case page flags every unreviewed break-glass to the lead agency's case managers, and
asks "Review it" only of those whose duty the review is now
(``BreakGlassEvent.objects.to_review_by``): not the person who broke the glass, not a case
manager who joined after the duty went to the administrators; they read who reviews it
instead. One query for the whole page, however many events."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.models import Role, User
from agencies.tests.factories import member
from casework.evidence import break_glass
from casework.evidence import reads as evidence_reads
from casework.models import BreakGlassEvent, BreakGlassGrounds, Case

pytestmark = pytest.mark.django_db
THREAT = BreakGlassGrounds.THREAT_TO_LIFE


@pytest.fixture
def second_manager(harbour) -> User:
    return member(harbour, Role.CASE_MANAGER, username="second-manager")


def _flag(user: User, case: Case, event: BreakGlassEvent, login) -> str:
    html = login(user).get(f"/cases/{case.pk}/").content.decode()
    marker = f'id="break-glass-flag-{event.pk}"'
    assert marker in html, user
    return html[html.index(marker) :].split("</div>")[0]


def test_only_its_reviewers_are_asked_to_review_it(
    case, partnership, case_manager, second_manager, login
):
    """Harbour's case manager breaks the glass on Harbour's case: their colleague reviews.
    Before the review the breaker's own page said "Review it" too."""
    event = break_glass.break_glass_open(
        actor=case_manager, case=case, grounds=THREAT, reason="Threat to life"
    )
    assert evidence_reads.break_glass_reviewers(event).people == (second_manager,)
    assert "Review it" in _flag(second_manager, case, event, login)
    mine = _flag(case_manager, case, event, login)
    assert "Review it" not in mine
    assert "Awaiting review by the lead agency&#x27;s case managers" in mine


def test_a_case_manager_who_joined_after_the_duty_went_to_the_admins_is_not_asked(
    case, partnership, police_officer, agency_admin, login
):
    event = break_glass.break_glass_open(
        actor=police_officer, case=case, grounds=THREAT, reason="Threat to life"
    )
    assert event.review_tier == "agency_admins"  # Harbour had no case manager then
    newcomer = member(case.lead_agency, Role.CASE_MANAGER, username="newcomer")
    flag = _flag(newcomer, case, event, login)
    assert "Review it" not in flag
    assert "Awaiting review by the lead agency" in flag and "administrators" in flag


def test_the_page_asks_once_however_many_events(
    case, partnership, police_officer, case_manager, second_manager, login
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert login(second_manager).get(f"/cases/{case.pk}/").status_code == 200
        return len(captured)

    break_glass.break_glass_open(actor=police_officer, case=case, grounds=THREAT, reason="First")
    one = queries()
    break_glass.break_glass_open(actor=case_manager, case=case, grounds=THREAT, reason="Second")
    assert BreakGlassEvent.objects.filter(case=case).count() == 2
    assert queries() == one
