"""Pages of break-glass and criminal-justice outcomes, the file to prosecutors that carries
an outcome, and the lead agency seeing every read of the evidence it granted."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from agencies import access
from audit.models import AuditEvent
from casework import consents, services
from casework.evidence import services as evidence_services
from casework.models import BreakGlassEvent, BreakGlassGrounds, JusticeOutcome
from casework.permissions import VIEW_CASE
from referrals import services as referral_services
from referrals.models import Referral, ReferralKind

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_root")]
THREAT = BreakGlassGrounds.THREAT_TO_LIFE

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


@pytest.fixture
def shared(case, police, partnership):
    access.grant(actor=None, obj=case, perms=[VIEW_CASE], reason=case, agency=police)
    return case


# --- Break-glass -------------------------------------------------------------------------


def test_break_glass_in_the_browser_from_opening_to_review(
    login, case, partnership, police_officer, case_manager, notification_worker
):
    officer, manager = login(police_officer), login(case_manager)
    # The officer does not see the case; within the partnership they may break the glass.
    assert officer.get(f"/cases/{case.pk}/").status_code == 404
    assert "Break the glass" in officer.get("/cases/evidence/").content.decode()
    form = officer.get(f"/cases/break-glass/?case={case.reference}").content.decode()
    assert f'value="{case.reference}"' in form

    missing_reason = officer.post(
        "/cases/break-glass/", {"reference": case.reference, "confirm": "on"}
    )
    assert missing_reason.status_code == 200 and not BreakGlassEvent.objects.exists()

    opened = officer.post(
        "/cases/break-glass/",
        {
            "reference": case.reference.lower(),
            "grounds": THREAT,
            "reason": "Threat to life",
            "confirm": "on",
        },
    )
    assert opened.status_code == 302 and opened["Location"] == f"/cases/{case.pk}/"
    page = officer.get(f"/cases/{case.pk}/").content.decode()
    assert "Hoxha" in page  # the identity, for the hour
    event = BreakGlassEvent.objects.get()
    assert event.opened_by == police_officer and event.reviewed_at is None

    # The lead's case manager is told and sees the flag until the review.
    notification_worker()
    assert case_manager.notifications.filter(kind="breakglass.opened").exists()
    lead_page = manager.get(f"/cases/{case.pk}/").content.decode()
    assert f'id="break-glass-flag-{event.pk}"' in lead_page
    review_url = f"/cases/break-glass/{event.pk}/"
    review_page = manager.get(review_url).content.decode()
    assert "Viewed the identity" in review_page  # what was read while it was open
    assert manager.post(review_url, {"note": ""}).status_code == 200  # a note is needed
    assert manager.post(review_url, {"note": "Justified: police attended"}).status_code == 302
    event.refresh_from_db()
    assert event.reviewed_by == case_manager
    assert (
        f'id="break-glass-flag-{event.pk}"'
        not in manager.get(f"/cases/{case.pk}/").content.decode()
    )
    # The opener sees their own event but may not review it.
    assert officer.get(review_url).status_code == 200
    assert officer.post(review_url, {"note": "Mine"}).status_code == 403


def test_break_glass_outside_the_partnership_is_no_such_case_and_audited(
    login, case, partnership, outside_officer
):
    outsider = login(outside_officer)
    answer = outsider.post(
        "/cases/break-glass/",
        {
            "reference": case.reference,
            "grounds": THREAT,
            "reason": "Threat to life",
            "confirm": "on",
        },
    )
    assert answer.status_code == 200
    assert "There is no case with this reference in your partnership." in answer.content.decode()
    nonexistent = outsider.post(
        "/cases/break-glass/",
        {
            "reference": "XX-0000-0000",
            "grounds": THREAT,
            "reason": "Threat to life",
            "confirm": "on",
        },
    )
    # The same answer for a case that exists and one that does not: once in the error
    # summary at the top of the page, once at the field.
    assert answer.content.decode().count("no case with this reference") == 2
    assert nonexistent.content.decode().count("There is no case with this reference") == 2
    assert not BreakGlassEvent.objects.exists()
    assert AuditEvent.objects.filter(
        action="access.denied", actor=outside_officer, case_id=case.pk
    ).exists()


def test_a_role_without_the_power_may_not_break_the_glass(login, caseworker):
    assert login(caseworker).get("/cases/break-glass/").status_code == 403


# --- Criminal-justice outcomes and the file to prosecutors --------------------------------


def test_officer_records_an_outcome_and_sends_the_file_to_prosecutors(
    login, shared, police_officer, prosecutor, caseworker, notification_worker
):
    officer = login(police_officer)
    page = officer.get(f"/cases/{shared.pk}/").content.decode()
    assert "Record an outcome" in page and "No criminal-justice outcome is recorded." in page
    bad = officer.post(f"/cases/{shared.pk}/outcomes/new/", {"suspects_identified": "-1"})
    assert bad.status_code == 200 and not JusticeOutcome.objects.exists()
    recorded = officer.post(
        f"/cases/{shared.pk}/outcomes/new/",
        {
            "crime_recorded": "on",
            "crime_reference": "NP/2026/0042",
            "suspects_identified": "2",
            "charged_on": "2026-10-01",
            "offences": "MSA 2015 s.1 (forced labour); s.2 (trafficking)",
            "court_outcome": "pending",
        },
    )
    assert recorded.status_code == 302
    outcome = JusticeOutcome.objects.get()
    assert outcome.recorded_by_agency == police_officer.membership.agency
    page = officer.get(f"/cases/{shared.pk}/").content.decode()
    assert "NP/2026/0042" in page and "Send the file to prosecutors" in page

    # The officer (not the lead agency) sends the file; only prosecution agencies offered.
    form_page = officer.get(f"/referrals/cases/{shared.pk}/new/?outcome={outcome.pk}")
    assert form_page.status_code == 200
    offered = form_page.context["form"].fields["to_agency"].queryset
    assert set(offered) == {prosecutor.membership.agency}
    sent = officer.post(
        f"/referrals/cases/{shared.pk}/new/",
        {
            "to_agency": prosecutor.membership.agency.pk,
            "kind": "prosecution_file",
            "urgency": "routine",
            "reason": "File for a charging decision",
            "justice_outcome": outcome.pk,
        },
    )
    assert sent.status_code == 302
    referral = Referral.objects.get(kind=ReferralKind.PROSECUTION_FILE)
    assert (
        referral.justice_outcome == outcome and referral.from_agency == outcome.recorded_by_agency
    )
    outcome.refresh_from_db()
    assert outcome.referred_to_prosecutor_on is not None  # the file's date, recorded

    # The prosecutor sees what the file carries, accepts it, and then sees the case.
    prosecution = login(prosecutor)
    detail = prosecution.get(f"/referrals/{referral.pk}/").content.decode()
    assert 'id="carried-outcome"' in detail and "MSA 2015 s.1" in detail
    assert prosecution.get(f"/cases/{shared.pk}/").status_code == 404
    referral_services.referral_accept(actor=prosecutor, referral=referral)
    assert "MSA 2015 s.1" in prosecution.get(f"/cases/{shared.pk}/").content.decode()


def test_a_file_to_prosecutors_must_carry_an_outcome_of_the_case(
    shared, case_manager, police_officer, prosecutor, caseworker, api
):
    api = api(caseworker)
    cps = prosecutor.membership.agency
    body = {
        "case": shared.pk,
        "to_agency": cps.pk,
        "kind": "prosecution_file",
        "reason": "File",
    }
    missing = api.post("/api/v1/referrals/", body, format="json")
    assert missing.status_code == 400 and "justice_outcome" in missing.json()
    assert (
        api.post(
            "/api/v1/referrals/", {**body, "justice_outcome": 999999}, format="json"
        ).status_code
        == 400
    )

    outcome = evidence_services.justice_outcome_record(
        actor=police_officer, case=shared, crime_recorded=True
    )
    other_kind = api.post(
        "/api/v1/referrals/",
        {**body, "kind": "legal_advice", "justice_outcome": outcome.pk},
        format="json",
    )
    assert other_kind.status_code == 400 and "justice_outcome" in other_kind.json()
    made = api.post("/api/v1/referrals/", {**body, "justice_outcome": outcome.pk}, format="json")
    assert made.status_code == 201, made.json()
    assert made.json()["justice_outcome"] == outcome.pk


def test_an_officer_may_not_send_an_ordinary_referral(login, shared, police_officer):
    officer = login(police_officer)
    # No outcome of the force's on the case: the referral form is not theirs.
    assert officer.get(f"/referrals/cases/{shared.pk}/new/").status_code == 403


# --- The lead agency sees every read of granted material ----------------------------------


def test_lead_sees_each_read_of_the_evidence_it_granted(login, shared, police_officer, caseworker):
    statement = services.document_upload(
        actor=caseworker,
        case=shared,
        uploaded_file=SimpleUploadedFile("s.png", PNG),
        kind="statement",
        purpose="evidence",
    )
    note = services.note_add(
        actor=caseworker, case=shared, body="Told us about the farm", visibility="case_team"
    )
    consents.consent_record(actor=caseworker, case=shared, scope="evidence_use", method="written")
    items = [{"kind": "document", "id": statement.pk}, {"kind": "note", "id": note.pk}]
    request = evidence_services.evidence_request_create(
        actor=police_officer, case=shared, purpose="Op", legal_basis="MSA", items=items
    )
    evidence_services.evidence_request_approve(
        actor=caseworker, request=request, items=items, victim_consulted=True
    )
    officer, lead = login(police_officer), login(caseworker)

    # The officer's case page shows the granted note and document, and nothing else.
    page = officer.get(f"/cases/{shared.pk}/").content.decode()
    assert "Told us about the farm" in page
    assert f"/cases/{shared.pk}/documents/{statement.pk}/download/" in page
    assert officer.get(f"/cases/{shared.pk}/documents/{statement.pk}/download/").status_code == 200
    read = AuditEvent.objects.filter(action="notes.viewed", actor=police_officer).latest("id")
    assert read.detail == {"note_ids": [note.pk]}

    day = statement.uploaded_at.strftime("%-d %b %Y")
    for url in (f"/cases/{shared.pk}/", f"/cases/{shared.pk}/evidence/{request.pk}/"):
        seen = lead.get(url).content.decode()
        assert f"Downloaded the statement uploaded {day}" in seen
        assert "Read 1 granted note" in seen


def test_the_expiry_warning_is_sent_once_in_the_window(
    shared, police_officer, caseworker, notification_worker
):
    consents.consent_record(actor=caseworker, case=shared, scope="police_contact", method="written")
    items = [{"kind": "meeting"}]
    request = evidence_services.evidence_request_create(
        actor=police_officer, case=shared, purpose="Op", legal_basis="MSA", items=items
    )
    evidence_services.evidence_request_approve(
        actor=caseworker, request=request, items=items, victim_consulted=True
    )
    request.refresh_from_db()
    start = request.expires_at - datetime.timedelta(days=3)
    for run in range(4):  # beat, every 15 minutes
        evidence_services.evidence_requests_expire(now=start + datetime.timedelta(minutes=15 * run))
    notification_worker()
    assert police_officer.notifications.filter(kind="evidence.expiring").count() == 1
    assert AuditEvent.objects.filter(action="evidence.expiry_warned").count() == 1
