"""A break-glass's free text goes only to those who may read who the person is. Its
reason and its review note may name the person and where they stay ("Mira
Novak at 7 Harbour Row..."): the breaker, who wrote the reason and answers for the
opening, and the holders of the case's identity (the lead agency's case team) read them;
every other viewer — the partnership's managers, the lead agency's administrators —
sees the structured grounds and is told the reason is the case team's. At both doors,
in every page and API response that shows an event."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.models import Partnership, Role, User
from agencies.tests.factories import member
from casework import services
from casework.evidence import break_glass
from casework.evidence import reads as evidence_reads
from casework.models import BreakGlassEvent, BreakGlassGrounds, Case

pytestmark = pytest.mark.django_db

GROUNDS = BreakGlassGrounds.SERIOUS_HARM
REASON = "Mira Novak at 7 Harbour Row is being moved tonight by her trafficker"
NOTE = "Justified: Mira Novak was moved from 7 Harbour Row the same night"
PERSONAL = ("Mira", "Novak", "Harbour Row", "trafficker")
WITHHELD = "The reason is shown to the lead agency's case team."


@pytest.fixture
def council_case(other_agency_caseworker: User, partnership: Partnership) -> Case:
    """Led by Northshire Council, which has a caseworker and no case manager."""
    case = services.case_create(
        actor=other_agency_caseworker, identity={"given_name": "Mira", "family_name": "Novak"}
    )
    services.location_set(
        actor=other_agency_caseworker,
        case=case,
        accommodation_type="safe_house",
        address="7 Harbour Row",
    )
    return case


@pytest.fixture
def harbour_manager(harbour) -> User:
    """A second partnership manager, at Harbour Trust."""
    return member(harbour, Role.PARTNERSHIP_MANAGER, username="harbour-manager")


def _open(officer: User, case: Case) -> BreakGlassEvent:
    return break_glass.break_glass_open(actor=officer, case=case, grounds=GROUNDS, reason=REASON)


def everything_shown_to(user: User, event: BreakGlassEvent, api, login) -> dict[str, str]:
    """Every page and API response that shows the event to ``user``, by where."""
    client, browser = api(user), login(user)
    answers = {
        "api detail": client.get(f"/api/v1/break-glass/{event.pk}/"),
        "api list": client.get("/api/v1/break-glass/"),
        "api to-review": client.get("/api/v1/break-glass/to-review/"),
        "page": browser.get(f"/cases/break-glass/{event.pk}/"),
        "task list": browser.get("/cases/break-glass/to-review/"),
        "home": browser.get("/"),
    }
    for where, answer in answers.items():
        assert answer.status_code == 200, (user, where)
    return {where: answer.content.decode() for where, answer in answers.items()}


def assert_nothing_personal(shown: dict[str, str]) -> None:
    for where, content in shown.items():
        for personal in PERSONAL:
            assert personal not in content, (where, personal)


def test_the_lead_agencys_admins_see_the_grounds_never_the_reason(
    council_case, police_officer, other_agency_admin, api, login
):
    event = _open(police_officer, council_case)
    assert evidence_reads.break_glass_reviewers(event).people == (other_agency_admin,)

    shown = everything_shown_to(other_agency_admin, event, api, login)
    assert_nothing_personal(shown)
    assert "Risk of serious harm, imminent" in shown["page"] and WITHHELD in shown["page"]
    assert "Risk of serious harm, imminent" in shown["task list"]
    detail = json.loads(shown["api detail"])
    assert (detail["grounds"], detail["grounds_label"]) == (
        "serious_harm",
        "Risk of serious harm, imminent",
    )
    assert (detail["reason"], detail["reason_shown"]) == (None, False)
    (listed,) = json.loads(shown["api to-review"])["results"]
    assert (listed["reason"], listed["grounds"]) == (None, "serious_harm")

    # Their review records; they read the note they wrote, still not the reason.
    reviewed = api(other_agency_admin).post(
        f"/api/v1/break-glass/{event.pk}/review/",
        {"note": "Justified: the control room log agrees"},
        format="json",
    )
    assert reviewed.status_code == 200
    assert reviewed.json()["reason"] is None
    assert reviewed.json()["review_note"] == "Justified: the control room log agrees"


def test_a_partnership_manager_sees_neither_the_reason_nor_another_managers_note(
    council_case, police_officer, manager, harbour_manager, api, login
):
    """Nobody at the Council reviews: the partnership's managers (both) do."""
    event = _open(police_officer, council_case)
    assert set(evidence_reads.break_glass_reviewers(event).people) == {manager, harbour_manager}
    assert_nothing_personal(everything_shown_to(harbour_manager, event, api, login))

    break_glass.break_glass_review(actor=manager, event=event, note=NOTE)
    other = everything_shown_to(harbour_manager, event, api, login)
    assert_nothing_personal(other)
    assert "The review's note is shown to the lead agency's case team." in other["page"]
    (listed,) = json.loads(other["api list"])["results"]
    assert (listed["review_note"], listed["review_note_shown"]) == (None, False)

    # Its author reads the note they wrote, never the reason.
    own = everything_shown_to(manager, event, api, login)
    assert NOTE in own["page"] and REASON not in own["page"]
    assert json.loads(own["api detail"])["review_note"] == NOTE
    assert json.loads(own["api detail"])["reason"] is None


def test_the_breaker_and_the_lead_case_team_read_the_reason_and_the_note(
    council_case, council, police_officer, manager, api, login
):
    event = _open(police_officer, council_case)
    break_glass.break_glass_review(actor=manager, event=event, note=NOTE)
    council_manager = member(council, Role.CASE_MANAGER, username="council-manager")
    for reader in (police_officer, council_manager):
        detail = api(reader).get(f"/api/v1/break-glass/{event.pk}/").json()
        assert (detail["reason"], detail["review_note"]) == (REASON, NOTE), reader
        assert detail["reason_shown"] and detail["review_note_shown"]
        (listed,) = api(reader).get("/api/v1/break-glass/").json()["results"]
        assert listed["reason"] == REASON
        page = login(reader).get(f"/cases/break-glass/{event.pk}/").content.decode()
        assert REASON in page and NOTE in page


def test_the_list_marks_every_event_in_the_same_query(
    council_case, police_officer, manager, api, other_agency_caseworker
):
    """Whether each event's text shows is part of the list's query, not a check per row."""
    _open(police_officer, council_case)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api(manager).get("/api/v1/break-glass/").status_code == 200
        return len(captured)

    one = queries()
    for n in range(2):
        more = services.case_create(actor=other_agency_caseworker)
        break_glass.break_glass_open(
            actor=police_officer, case=more, grounds=GROUNDS, reason=f"Another threat {n}"
        )
    assert api(manager).get("/api/v1/break-glass/").json()["count"] == 3
    assert queries() == one
