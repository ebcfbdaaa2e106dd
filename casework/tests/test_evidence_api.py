"""The evidence, break-glass and outcome paths of the API, end to end."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from agencies import access
from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from casework import consents, services
from casework.models import BreakGlassGrounds
from casework.permissions import VIEW_CASE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_root")]
THREAT = BreakGlassGrounds.THREAT_TO_LIFE

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


@pytest.fixture
def shared(case, police, partnership):
    access.grant(actor=None, obj=case, perms=[VIEW_CASE], reason=case, agency=police)
    return case


@pytest.fixture
def statement(shared, caseworker):
    return services.document_upload(
        actor=caseworker,
        case=shared,
        uploaded_file=SimpleUploadedFile("statement.png", PNG),
        kind="statement",
        purpose="evidence",
    )


def test_an_officer_asks_the_caseworker_approves_and_the_officer_downloads(
    api, shared, statement, police_officer, caseworker, other_agency_caseworker
):
    officer, lead = api(police_officer), api(caseworker)
    items = [{"kind": "document", "id": statement.pk}]
    asked = officer.post(
        "/api/v1/evidence-requests/",
        {
            "case": shared.pk,
            "purpose": "Operation Harvest",
            "crime_reference": "NP/2026/0042",
            "legal_basis": "Criminal investigation",
            "items": items,
        },
        format="json",
    )
    assert asked.status_code == 201, asked.content
    request_id = asked.json()["id"]
    assert asked.json()["status"] == "pending"
    assert asked.json()["items"] == [{"kind": "document", "id": statement.pk, "approved": None}]
    assert [r["id"] for r in lead.get("/api/v1/evidence-requests/").json()["results"]] == [
        request_id
    ]
    assert (
        api(other_agency_caseworker).get(f"/api/v1/evidence-requests/{request_id}/").status_code
        == 404
    )

    # Without the person's consent the approval is refused, naming what is missing.
    approve = f"/api/v1/evidence-requests/{request_id}/approve/"
    refused = lead.post(approve, {"items": items, "victim_consulted": True}, format="json")
    assert refused.status_code == 400
    assert "Use of statements and documents as evidence" in str(refused.json())

    consents.consent_record(actor=caseworker, case=shared, scope="evidence_use", method="written")
    approved = lead.post(approve, {"items": items, "victim_consulted": True}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"

    download = f"/api/v1/cases/{shared.pk}/documents/{statement.pk}/download/"
    got = officer.get(download)
    assert got.status_code == 200 and b"".join(got.streaming_content) == PNG
    assert AuditEvent.objects.filter(action="document.downloaded", actor=police_officer).exists()

    revoked = lead.post(f"/api/v1/evidence-requests/{request_id}/revoke/", {}, format="json")
    assert revoked.json()["status"] == "revoked"
    assert officer.get(download).status_code == 404
    again = lead.post(approve, {"items": items, "victim_consulted": True}, format="json")
    assert again.status_code == 409


def test_asking_on_a_case_that_does_not_exist_or_is_hidden_is_the_same_400(
    api, shared, case, police_officer, outside_officer
):
    # An id in a body is input: a field error, identical for a missing and a hidden case.
    body = {"purpose": "Op", "legal_basis": "Investigation", "items": [{"kind": "meeting"}]}
    missing = api(police_officer).post(
        "/api/v1/evidence-requests/", {**body, "case": 999_999}, format="json"
    )
    hidden = api(outside_officer).post(
        "/api/v1/evidence-requests/", {**body, "case": shared.pk}, format="json"
    )
    assert missing.status_code == hidden.status_code == 400
    assert missing.json() == hidden.json() == {"case": ["There is no such case."]}
    assert AuditEvent.objects.filter(
        action=AuthAction.ACCESS_DENIED, actor=outside_officer, target_id=str(shared.pk)
    ).exists()
    bad = api(police_officer).post(
        "/api/v1/evidence-requests/",
        {**body, "case": "x", "items": [{"kind": "gun"}]},
        format="json",
    )
    assert bad.status_code == 400


def test_a_hidden_request_is_the_same_404_as_a_missing_one_and_the_attempt_is_audited(
    api, login, shared, statement, police_officer, other_agency_caseworker
):
    from casework.evidence import services as evidence_services

    asked = evidence_services.evidence_request_create(
        actor=police_officer,
        case=shared,
        purpose="Op",
        legal_basis="Investigation",
        items=[{"kind": "document", "id": statement.pk}],
    )
    stranger = api(other_agency_caseworker)
    hidden = stranger.get(f"/api/v1/evidence-requests/{asked.pk}/")
    missing = stranger.get(f"/api/v1/evidence-requests/{asked.pk + 1000}/")
    malformed = stranger.get("/api/v1/evidence-requests/abc/")
    assert hidden.status_code == missing.status_code == malformed.status_code == 404
    assert hidden.json() == missing.json()
    page = login(other_agency_caseworker).get(f"/cases/{shared.pk}/evidence/{asked.pk}/")
    assert page.status_code == 404
    refused = AuditEvent.objects.filter(
        action=AuthAction.ACCESS_DENIED, actor=other_agency_caseworker, target_id=str(asked.pk)
    )
    assert refused.count() == 2  # once at each door; none for the missing or malformed id


def test_break_glass_and_its_review_through_the_api(
    api, case, partnership, police_officer, case_manager
):
    opened = api(police_officer).post(
        f"/api/v1/cases/{case.pk}/break-glass/",
        {"grounds": THREAT, "reason": "Threat to life"},
        format="json",
    )
    assert opened.status_code == 201, opened.content
    event_id = opened.json()["id"]
    identity = api(police_officer).get(f"/api/v1/cases/{case.pk}/identity/")
    assert identity.status_code == 200 and identity.json()["family_name"] == "Hoxha"
    review = f"/api/v1/break-glass/{event_id}/review/"
    reviewed = api(case_manager).post(review, {"note": "Justified"}, format="json")
    assert reviewed.status_code == 200 and reviewed.json()["reviewed_at"]
    assert api(case_manager).post(review, {"note": "Again"}, format="json").status_code == 409


def test_officers_record_justice_outcomes_on_cases_they_see(
    api, shared, police_officer, caseworker
):
    url = f"/api/v1/cases/{shared.pk}/outcomes/"
    made = api(police_officer).post(
        url,
        {"crime_recorded": True, "crime_reference": "NP/1", "suspects_identified": 2},
        format="json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["recorded_by_agency"] == police_officer.membership.agency_id
    listed = api(caseworker).get(url).json()["results"]
    assert [o["crime_reference"] for o in listed] == ["NP/1"]
    assert api(caseworker).post(url, {"crime_recorded": True}, format="json").status_code == 403
