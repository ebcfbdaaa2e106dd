"""The break-glass doors answer by the access contract (and its
review): everything that does not depend on the case is asked before the case is looked
up, so that no answer tells whether a case exists — an active membership (403) and what
they sent (grounds and a reason: 400) — then a case the caller may not break the glass on
(outside the lead agency's partnership, or a role without the power that does not see it)
is the same audited 404 as a missing one; a malformed case id is 404, never a 500; the
OpenAPI schema documents break-glass's body as BreakGlass and close's as Close."""

from __future__ import annotations

import pytest

from agencies.models import User
from audit.models import AuditEvent
from casework.models import BreakGlassEvent, BreakGlassGrounds

pytestmark = pytest.mark.django_db
THREAT = BreakGlassGrounds.THREAT_TO_LIFE
BODY = {"grounds": THREAT, "reason": "Threat to life"}
MISSING = "/api/v1/cases/999999/break-glass/"


@pytest.fixture
def reviewer(case_manager):
    """Harbour's case manager: someone to review an opening."""
    return case_manager


@pytest.fixture
def stranger(db: None) -> User:
    """Signed in, but a member of no agency."""
    return User.objects.create_user(username="stranger", password="a-long-test-password-1")


def _same_for_every_id(api, caller, case, body) -> tuple[int, dict]:
    """The answer for ``case`` and for a case that does not exist, which must be one."""
    existing = api(caller).post(f"/api/v1/cases/{case.pk}/break-glass/", body, format="json")
    missing = api(caller).post(MISSING, body, format="json")
    assert (existing.status_code, existing.json()) == (missing.status_code, missing.json())
    return existing.status_code, existing.json()


@pytest.mark.usefixtures("reviewer")
def test_a_role_without_the_power_gets_the_404_of_a_missing_case_unless_it_sees_it(
    api, case, partnership, analyst, prosecutor, manager, caseworker
):
    """The issue: inside the partnership a role without the power got 403, outside it
    404 — the status told an analyst the case was in their partnership. Now a case the
    caller does not see is the audited 404 of a missing one, whatever the role; only a
    caller who already sees the case (Harbour's caseworker) is told 403."""
    for caller in (analyst, prosecutor, manager):
        status, _body = _same_for_every_id(api, caller, case, BODY)
        assert status == 404, caller
        assert AuditEvent.objects.filter(
            action="access.denied", actor=caller, target_id=str(case.pk)
        ).exists()
        # An empty body is the same 400 for every id: what was sent is asked first.
        assert _same_for_every_id(api, caller, case, {})[0] == 400
    seen = api(caseworker).post(f"/api/v1/cases/{case.pk}/break-glass/", BODY, format="json")
    assert seen.status_code == 403
    assert seen.json() == {"detail": "Only police officers and case managers may break the glass."}
    assert not BreakGlassEvent.objects.exists()


@pytest.mark.usefixtures("reviewer")
def test_someone_of_no_active_agency_gets_403_for_every_case_id_alike(
    api, case, partnership, stranger, police_officer, police
):
    """Before the review the case was looked up first: 403 for a case that exists, 404
    for one that does not, to a user with no membership or of a switched-off agency."""
    status, _body = _same_for_every_id(api, stranger, case, BODY)
    assert status == 403
    police.active = False
    police.save(update_fields=["active"])
    status, _body = _same_for_every_id(api, police_officer, case, BODY)
    assert status == 403
    assert not BreakGlassEvent.objects.exists()


@pytest.mark.usefixtures("reviewer")
def test_outside_the_partnership_a_case_is_the_same_audited_404_as_a_missing_one(
    api, case, partnership, outside_officer
):
    status, _body = _same_for_every_id(api, outside_officer, case, BODY)
    assert status == 404
    assert AuditEvent.objects.filter(
        action="access.denied", actor=outside_officer, case_id=case.pk
    ).exists()
    assert not BreakGlassEvent.objects.exists()


MALFORMED_CASE_IDS = ["abc", "false", "null", "-1", "1.5", "99999999999999999999999"]
EVERY_ROLE = [
    "caseworker",
    "case_manager",
    "agency_admin",
    "manager",
    "police_officer",
    "analyst",
    "prosecutor",
    "outside_officer",
]


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_a_malformed_case_id_is_a_json_404_for_every_role(api, request, partnership, role):
    """``1.5`` is refused by the route itself (its id takes no dot): the same JSON 404."""
    caller = request.getfixturevalue(role)
    for case_id in MALFORMED_CASE_IDS:
        answer = api(caller).post(f"/api/v1/cases/{case_id}/break-glass/", BODY, format="json")
        assert answer.status_code == 404, (role, case_id)
        assert answer.json() == {"detail": "Not found."}, (role, case_id)


@pytest.mark.parametrize("bg_id", ["abc", "false", "null", "99999999999999999999999"])
def test_a_malformed_break_glass_id_is_404(api, manager, bg_id):
    assert api(manager).get(f"/api/v1/break-glass/{bg_id}/").status_code == 404
    answer = api(manager).post(f"/api/v1/break-glass/{bg_id}/review/", {"note": "x"}, format="json")
    assert answer.status_code == 404


@pytest.mark.usefixtures("reviewer")
@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["grounds", "reason"]),
        ({"grounds": THREAT, "reason": "   "}, ["reason"]),
        ({"grounds": "hunch", "reason": "Threat to life"}, ["grounds"]),
        ({"grounds": None, "reason": "Threat to life"}, ["grounds"]),
        ({"reason": "Threat to life"}, ["grounds"]),
    ],
)
def test_a_bad_body_is_the_same_400_for_every_case_id(
    api, case, partnership, police_officer, body, fields
):
    """Before the review an empty body gave 400 for a case in the partnership and 404 for
    a missing one: a silent, unaudited probe of which cases exist."""
    status, answer = _same_for_every_id(api, police_officer, case, body)
    assert status == 400 and sorted(answer) == fields
    assert not AuditEvent.objects.filter(actor=police_officer, case_id=case.pk).exists()
    assert not BreakGlassEvent.objects.exists()


def test_the_messages_are_the_services_at_both_doors(api, login, case, police_officer):
    answer = api(police_officer).post(MISSING, {}, format="json").json()
    assert answer == {
        "grounds": ["Choose the grounds for breaking the glass."],
        "reason": ["State why a life is at risk."],
    }
    page = login(police_officer).post(
        "/cases/break-glass/", {"reference": case.reference, "confirm": "on"}
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "Choose the grounds for breaking the glass." in html
    assert "State why a life is at risk." in html
    assert not BreakGlassEvent.objects.exists()


def _request_body_ref(schema: dict, path: str) -> str:
    content = schema["paths"][path]["post"]["requestBody"]["content"]
    return content["application/json"]["schema"]["$ref"]


def test_the_schema_names_the_break_glass_and_close_bodies(api, caseworker):
    answer = api(caseworker).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert answer.status_code == 200
    schema = answer.json()
    assert _request_body_ref(schema, "/api/v1/cases/{id}/break-glass/").endswith("/BreakGlass")
    assert _request_body_ref(schema, "/api/v1/cases/{id}/close/").endswith("/Close")
    assert _request_body_ref(schema, "/api/v1/break-glass/{id}/review/").endswith(
        "/BreakGlassReview"
    )
    detail = schema["paths"]["/api/v1/break-glass/{id}/"]["get"]["responses"]["200"]
    assert detail["content"]["application/json"]["schema"]["$ref"].endswith(
        "/BreakGlassEventDetail"
    )
