"""What a client sends to open a case or write a note is taken, ignored or refused with a
field error, never a 500.

A case opens ``open``, led by the caller's agency, with a reference the service gives:
``status``, ``reference``, ``lead_agency`` and ``opened_at`` in the body change nothing.
A note says who may read it, at both doors.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from casework import services
from casework.models import Case, CaseNote, CaseStatus

pytestmark = pytest.mark.django_db


def test_a_new_case_ignores_the_fields_the_service_sets(api, caseworker, council):
    response = api(caseworker).post(
        "/api/v1/cases/",
        {
            "status": "closed",
            "id": 999999,
            "reference": "NMS-2020-99999",
            "lead_agency": council.pk,
            "opened_at": "2020-01-01T00:00:00Z",
            "active_flags": ["self_harm"],
            "not_a_field": "x",
            "risk_level": "high",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert case.pk != 999999
    assert case.status == body["status"] == CaseStatus.OPEN
    assert case.lead_agency_id == caseworker.membership.agency_id
    assert case.reference == body["reference"] != "NMS-2020-99999"
    assert timezone.now() - case.opened_at < datetime.timedelta(minutes=1)
    assert not case.flags.exists()
    assert case.risk_level == "high"  # what the caller may set is still taken


def test_the_schema_shows_status_read_only_on_a_new_case(api, caseworker):
    schema = api(caseworker).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/cases/"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    properties = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"]
    assert properties["status"].get("readOnly") is True
    assert properties["lead_agency"].get("readOnly") is True


def test_a_status_change_through_patch_still_works(api, caseworker, case):
    client = api(caseworker)
    activated = client.patch(f"/api/v1/cases/{case.pk}/", {"status": "active"}, format="json")
    assert activated.json()["status"] == CaseStatus.ACTIVE
    refused = client.patch(
        f"/api/v1/cases/{case.pk}/", {"status": "closed", "risk_level": "medium"}, format="json"
    )
    assert refused.status_code == 400 and "status" in refused.json()
    case.refresh_from_db()
    assert case.status == CaseStatus.ACTIVE and case.risk_level == "high"  # all or nothing


def test_the_service_refuses_fields_a_caller_may_not_set_with_a_field_error(caseworker):
    with pytest.raises(ValidationError) as error:
        services.case_create(actor=caseworker, status="closed", reference="NMS-1")
    assert set(error.value.message_dict) == {"status", "reference"}
    assert not Case.objects.exists()


def test_a_note_without_who_may_read_it_is_a_field_error_at_both_doors(
    api, login, caseworker, case
):
    at_api = api(caseworker).post(f"/api/v1/cases/{case.pk}/notes/", {"body": "Hi"}, format="json")
    assert at_api.status_code == 400
    assert "visibility" in at_api.json()
    at_page = login(caseworker).post(f"/cases/{case.pk}/notes/new/", {"body": "Hi"})
    assert at_page.status_code == 200  # the case page again, with the error summary
    assert "visibility" in at_page.context["note_form"].errors
    assert not CaseNote.objects.exists()
