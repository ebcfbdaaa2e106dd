"""The break-glass doors answer by the access contract (issue 14, items 6 and 10): a role
without the power that does not see the case gets the same audited 404 as an outsider
(403 only when it sees the case); a malformed case id is 404, never a 500; the OpenAPI
schema documents break-glass's body as BreakGlass and close's as Close."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from casework.models import BreakGlassEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(case_manager):
    """Harbour's case manager: someone to review an opening."""
    return case_manager


@pytest.mark.usefixtures("reviewer")
def test_a_role_without_the_power_that_does_not_see_the_case_gets_404_not_403(
    api, case, partnership, analyst, prosecutor, outside_officer, caseworker
):
    url = f"/api/v1/cases/{case.pk}/break-glass/"
    body = {"reason": "Threat to life"}
    nonexistent = api(analyst).post("/api/v1/cases/999999/break-glass/", body, format="json")
    assert nonexistent.status_code == 404
    for caller in (analyst, prosecutor, outside_officer):
        answer = api(caller).post(url, body, format="json")
        assert answer.status_code == 404, caller
        assert answer.json() == nonexistent.json()
        assert AuditEvent.objects.filter(
            action="access.denied", actor=caller, case_id=case.pk
        ).exists()
        # An empty body is no different: who may is decided before what was sent.
        assert api(caller).post(url, {}, format="json").status_code == 404
    # The caseworker sees the case but may not break the glass: 403.
    assert api(caseworker).post(url, body, format="json").status_code == 403
    assert not BreakGlassEvent.objects.exists()


@pytest.mark.parametrize("case_id", ["abc", "false", "null", "-1", "99999999999999999999999"])
def test_a_malformed_case_id_is_404_not_500(api, police_officer, partnership, case_id):
    answer = api(police_officer).post(
        f"/api/v1/cases/{case_id}/break-glass/", {"reason": "Threat to life"}, format="json"
    )
    assert answer.status_code == 404


@pytest.mark.parametrize("bg_id", ["abc", "false", "null", "99999999999999999999999"])
def test_a_malformed_break_glass_id_is_404(api, manager, bg_id):
    assert api(manager).get(f"/api/v1/break-glass/{bg_id}/").status_code == 404
    answer = api(manager).post(f"/api/v1/break-glass/{bg_id}/review/", {"note": "x"}, format="json")
    assert answer.status_code == 404


@pytest.mark.usefixtures("reviewer")
def test_no_reason_is_a_400_on_reason_for_those_who_may(api, case, partnership, police_officer):
    answer = api(police_officer).post(f"/api/v1/cases/{case.pk}/break-glass/", {}, format="json")
    assert answer.status_code == 400 and list(answer.json()) == ["reason"]


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
