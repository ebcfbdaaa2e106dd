"""``OPTIONS`` on a case route describes that route's own body.

DRF's metadata described every nested route (``cases/<id>/needs/``...) with the case's
fields. Each route here is checked against the serializer its action validates the body
with; an action added to ``CaseViewSet`` without an entry below fails the first test.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from rest_framework import serializers

from casework.api import serializers as s
from casework.api.views import CaseViewSet
from casework.evidence import serializers as evidence_serializers

pytestmark = pytest.mark.django_db

# Route (the router's name, or an extra action's) -> method -> the serializer the view
# validates that method's body with (None: the route takes no body).
BODIES: dict[str, dict[str, type[serializers.Serializer] | None]] = {
    "list": {"POST": s.CaseCreateSerializer},
    "detail": {"PATCH": s.CaseSerializer},
    "identity": {"PUT": s.IdentitySerializer},
    "location": {"PUT": s.LocationSerializer},
    "needs": {"POST": s.NeedSerializer},
    "need": {"PATCH": s.NeedSerializer},
    "consents": {"POST": s.ConsentSerializer},
    "withdraw-consent": {"POST": s.ReasonSerializer},
    "notes": {"POST": s.NoteSerializer},
    "flags": {"POST": s.FlagSerializer},
    "clear-flag": {"POST": None},
    "documents": {"POST": s.DocumentSerializer},
    "close": {"POST": s.CloseSerializer},
    "transfer": {"POST": s.TransferSerializer},
    "answer-transfer": {"POST": s.TransferAnswerSerializer},
    "outcomes": {"POST": evidence_serializers.JusticeOutcomeSerializer},
    "break-glass": {"POST": evidence_serializers.BreakGlassSerializer},
    "dismiss-possible-duplicate": {"POST": s.DismissDuplicateSerializer},
    "task-done": {"POST": None},
}

# Any well-formed nested id: OPTIONS on a POST or PATCH route looks nothing up.
NESTED: dict[str, dict[str, Any]] = {
    "need": {"need_id": 1},
    "withdraw-consent": {"consent_id": 1},
    "clear-flag": {"flag_id": 1},
    "answer-transfer": {"transfer_id": 1, "decision": "accept"},
    "dismiss-possible-duplicate": {"hit_id": 1},
    "task-done": {"task_id": 1},
}


def _url(route: str, case_pk: int) -> str:
    if route == "list":
        return reverse("api:case-list")
    return reverse(f"api:case-{route}", kwargs={"pk": case_pk, **NESTED.get(route, {})})


def _fields(serializer: serializers.Serializer) -> dict[str, bool]:
    """Each field's name and whether it is read-only, as OPTIONS says them."""
    return {name: field.read_only for name, field in serializer.fields.items()}


def test_every_case_action_that_takes_a_body_is_checked():
    taking_a_body = {
        action.url_name
        for action in CaseViewSet.get_extra_actions()
        if set(action.mapping) & {"post", "put", "patch"}
    }
    assert taking_a_body <= set(BODIES), sorted(taking_a_body - set(BODIES))


@pytest.mark.parametrize("route", sorted(BODIES))
def test_options_describes_the_serializer_the_route_validates_with(api, caseworker, case, route):
    response = api(caseworker).options(_url(route, case.pk))
    assert response.status_code == 200
    actions = response.json().get("actions", {})
    for method, serializer_class in BODIES[route].items():
        assert method in actions, f"{route}: {method} is not described"
        described = {name: info.get("read_only", False) for name, info in actions[method].items()}
        expected = _fields(serializer_class()) if serializer_class is not None else {}
        assert described == expected, route


def test_options_on_needs_lists_a_needs_fields_not_a_cases(api, caseworker, case):
    post = api(caseworker).options(f"/api/v1/cases/{case.pk}/needs/").json()["actions"]["POST"]
    assert post["category"]["required"] is True
    assert "exploitation_types" not in post and "lead_agency" not in post


def test_options_shows_a_new_cases_status_read_only(api, caseworker):
    post = api(caseworker).options("/api/v1/cases/").json()["actions"]["POST"]
    assert post["status"]["read_only"] is True
    assert post["risk_level"]["read_only"] is False


def test_options_describes_no_change_to_a_case_the_caller_cannot_see(
    api, case, other_agency_caseworker
):
    """Describing PUT looks the case up, as PUT would: hidden and missing are alike."""
    client = api(other_agency_caseworker)
    hidden = client.options(f"/api/v1/cases/{case.pk}/identity/")
    missing = client.options("/api/v1/cases/999999/identity/")
    assert hidden.status_code == missing.status_code == 200
    assert "actions" not in hidden.json() and hidden.json() == missing.json()
