"""The evidence pages: an officer asks in the browser, the caseworker approves one
document with the person's consent, the officer downloads it, and access ends on
revocation."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from agencies import access
from casework import consents, services
from casework.models import EvidenceAccessRequest
from casework.permissions import VIEW_CASE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_root")]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


@pytest.fixture
def shared(case, police, partnership, caseworker):
    access.grant(actor=None, obj=case, perms=[VIEW_CASE], reason=case, agency=police)
    for name, kind in (("statement.png", "statement"), ("medical.png", "medical")):
        services.document_upload(
            actor=caseworker,
            case=case,
            uploaded_file=SimpleUploadedFile(name, PNG),
            kind=kind,
            purpose="evidence",
        )
    services.note_add(
        actor=caseworker, case=case, body="Told us about the farm", visibility="case_team"
    )
    return case


def test_officer_asks_caseworker_approves_one_document_officer_downloads_until_revoked(
    login, shared, police_officer, caseworker
):
    officer, lead = login(police_officer), login(caseworker)
    statement, medical = (
        shared.documents.get(kind="statement"),
        shared.documents.get(kind="medical"),
    )

    # The officer sees that material exists, not what it says.
    page = officer.get(f"/cases/{shared.pk}/").content.decode()
    assert "Ask for evidence" in page and 'id="material"' in page
    assert "Told us about the farm" not in page and "statement.png" not in page

    form = officer.get(f"/cases/{shared.pk}/evidence/new/").content.decode()
    assert "Statement, uploaded" in form and "statement.png" not in form
    sent = officer.post(
        f"/cases/{shared.pk}/evidence/new/",
        {
            "purpose": "Operation Harvest",
            "crime_reference": "NP/2026/0042",
            "legal_basis": "Criminal investigation",
            "items": [f"document:{statement.pk}", f"document:{medical.pk}", "identity:"],
        },
    )
    assert sent.status_code == 302
    request = EvidenceAccessRequest.objects.get()
    url = f"/cases/{shared.pk}/evidence/{request.pk}/"
    assert sent["Location"] == url

    # Without consent the approval is refused with what is missing.
    refused = lead.post(
        url,
        {"action": "approve", "items": [f"document:{statement.pk}"], "victim_consulted": "on"},
    )
    assert refused.status_code == 200
    assert "Use of statements and documents as evidence" in refused.content.decode()
    consents.consent_record(actor=caseworker, case=shared, scope="evidence_use", method="written")
    approved = lead.post(
        url,
        {"action": "approve", "items": [f"document:{statement.pk}"], "victim_consulted": "on"},
    )
    assert approved.status_code == 302
    request.refresh_from_db()
    assert request.status == "partly_approved"

    # The officer downloads the approved statement, not the medical record.
    mine = officer.get("/cases/evidence/").content.decode()
    assert "held now" in mine
    download = f"/cases/{shared.pk}/documents/{statement.pk}/download/"
    assert download in officer.get(url).content.decode()
    got = officer.get(download)
    assert got.status_code == 200 and b"".join(got.streaming_content) == PNG
    assert officer.get(f"/cases/{shared.pk}/documents/{medical.pk}/download/").status_code == 404

    # Revoked: the next request finds nothing.
    assert lead.post(url, {"action": "revoke", "reason": "Victim unwell"}).status_code == 302
    assert officer.get(download).status_code == 404
    assert "Revoked" in officer.get(url).content.decode()


def test_a_request_page_is_404_to_everyone_but_the_asker_and_the_lead(
    login, shared, police_officer, caseworker, police, other_agency_caseworker
):
    from agencies.models import Role
    from agencies.tests.factories import member
    from casework.evidence import services as evidence_services

    request = evidence_services.evidence_request_create(
        actor=police_officer,
        case=shared,
        purpose="Op",
        legal_basis="Investigation",
        items=[{"kind": "meeting"}],
    )
    url = f"/cases/{shared.pk}/evidence/{request.pk}/"
    colleague = member(police, Role.OFFICER, username="colleague")
    assert login(colleague).get(url).status_code == 404
    assert login(other_agency_caseworker).get(url).status_code == 404
    assert login(caseworker).get(url).status_code == 200
    withdrawn = login(police_officer).post(url, {"action": "withdraw"})
    assert withdrawn.status_code == 302
    request.refresh_from_db()
    assert request.status == "withdrawn"
