"""A justice outcome is recorded for an agency the case is shared with, never on the
strength of a grant to the officer alone. A break-glass lets one
officer read the identity and location for an hour; before the review it also let them
record an outcome, which they could then file to prosecutors of another agency — a
lasting, agency-wide grant made out of an hour's personal one. The officer sees the case,
so the answer is 403 with the rule, at both doors; a case they do not see stays 404."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from agencies import access
from casework.evidence import break_glass
from casework.evidence import services as evidence_services
from casework.models import BreakGlassGrounds, JusticeOutcome
from casework.permissions import VIEW_CASE

pytestmark = pytest.mark.django_db

OUTCOME = {"crime_recorded": True, "crime_reference": "NP/1"}
RULE = "only an agency the case is shared with records its justice outcomes"


@pytest.fixture
def glass_broken(case, partnership, police_officer, case_manager):
    """The officer's only sight of Harbour's case: their break-glass (Harbour's case
    manager reviews it)."""
    return break_glass.break_glass_open(
        actor=police_officer,
        case=case,
        grounds=BreakGlassGrounds.THREAT_TO_LIFE,
        reason="Threat to life",
    )


@pytest.mark.usefixtures("glass_broken")
def test_a_break_glass_officer_may_not_record_an_outcome_at_either_door(
    case, police_officer, api, login
):
    with pytest.raises(PermissionDenied, match=RULE):
        evidence_services.justice_outcome_record(actor=police_officer, case=case, **OUTCOME)

    answer = api(police_officer).post(f"/api/v1/cases/{case.pk}/outcomes/", OUTCOME, format="json")
    assert answer.status_code == 403 and RULE in answer.json()["detail"]
    # The rule comes before the body: a bad body gets the same 403.
    bad = api(police_officer).post(f"/api/v1/cases/{case.pk}/outcomes/", {}, format="json")
    assert bad.status_code == 403

    browser = login(police_officer)
    assert browser.get(f"/cases/{case.pk}/").status_code == 200  # they do see the case
    assert "Record an outcome" not in browser.get(f"/cases/{case.pk}/").content.decode()
    assert browser.get(f"/cases/{case.pk}/outcomes/new/").status_code == 403
    assert browser.post(f"/cases/{case.pk}/outcomes/new/", OUTCOME).status_code == 403
    assert not JusticeOutcome.objects.exists()


def test_a_case_the_officer_does_not_see_is_still_404(case, partnership, police_officer, api):
    answer = api(police_officer).post(f"/api/v1/cases/{case.pk}/outcomes/", OUTCOME, format="json")
    assert answer.status_code == 404


@pytest.mark.usefixtures("glass_broken")
def test_shared_with_the_force_the_same_officer_records_it(
    case, police, police_officer, api, login
):
    access.grant(actor=None, obj=case, perms=[VIEW_CASE], reason=case, agency=police)
    assert "Record an outcome" in login(police_officer).get(f"/cases/{case.pk}/").content.decode()
    answer = api(police_officer).post(f"/api/v1/cases/{case.pk}/outcomes/", OUTCOME, format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["recorded_by_agency"] == police.pk
