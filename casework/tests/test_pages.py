"""The casework pages in the browser: scoping, forms, inline actions, downloads, audit."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agencies.models import Role
from agencies.tests.factories import member
from audit.models import AuditEvent
from casework import consents, services
from casework.models import (
    Case,
    CaseNote,
    CaseStatus,
    Consent,
    Document,
    Need,
    SafeguardingFlag,
    VictimIdentity,
)

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100

CASE_FORM = {
    "exploitation_types": ["labour", "sexual"],
    "risk_level": "medium",
    "gender": "female",
    "nationality": "AL",
    "first_language": "Albanian",
    "interpreter_needed": "on",
    "region": "Northshire",
    "how_identified": "ngo_outreach",
}


def nested_urls(case: Case) -> list[str]:
    base = f"/cases/{case.pk}"
    return [
        f"{base}/edit/",
        f"{base}/identity/",
        f"{base}/location/",
        f"{base}/needs/new/",
        f"{base}/consents/new/",
        f"{base}/flags/new/",
        f"{base}/documents/new/",
    ]


# --- Scoping --------------------------------------------------------------------------


def test_the_list_shows_own_agency_cases_and_no_others(
    login, case, caseworker, other_agency_caseworker
):
    page = login(caseworker).get("/cases/")
    assert page.status_code == 200
    assert case.reference.encode() in page.content
    assert b"Open a case" in page.content

    other = login(other_agency_caseworker).get("/cases/")
    assert other.status_code == 200
    assert case.reference.encode() not in other.content
    assert b"No cases match." in other.content


def test_a_hidden_case_is_404_everywhere(
    login, case, caseworker, other_agency_caseworker, police_officer, private_root
):
    need = services.need_add(actor=caseworker, case=case, category="healthcare")
    note = services.note_add(actor=caseworker, case=case, body="Seen", visibility="case_team")
    document = services.document_upload(
        actor=caseworker,
        case=case,
        uploaded_file=SimpleUploadedFile("scan.png", PNG),
        kind="photo",
        purpose="support",
    )
    for user in (other_agency_caseworker, police_officer):
        client = login(user)
        assert client.get(f"/cases/{case.pk}/").status_code == 404
        for url in nested_urls(case):
            assert client.get(url).status_code == 404, url
        assert client.get(f"/cases/{case.pk}/needs/{need.pk}/").status_code == 404
        assert client.get(f"/cases/{case.pk}/notes/{note.pk}/").status_code == 404
        download = f"/cases/{case.pk}/documents/{document.pk}/download/"
        assert client.get(download).status_code == 404
        assert client.post(f"/cases/{case.pk}/notes/new/", {"body": "x"}).status_code == 404
        assert client.post(f"/cases/{case.pk}/status/", {"action": "activate"}).status_code == 404
    assert not AuditEvent.objects.filter(action="document.downloaded").exists()
    # Each attempt on a hidden record is in the trail, though the user learns nothing.
    assert AuditEvent.objects.filter(
        action="access.denied", case_id=case.pk, actor=other_agency_caseworker
    ).exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_anonymous_visitors_are_sent_to_sign_in(login, case):
    response = login(None).get(f"/cases/{case.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_roles_that_may_not_open_cases_are_refused(login, agency_admin, police_officer):
    for user in (agency_admin, police_officer):
        assert login(user).get("/cases/new/").status_code == 403
        page = login(user).get("/cases/")
        assert page.status_code == 200 and b"Open a case" not in page.content


# --- Opening a case -------------------------------------------------------------------


def test_bad_input_shows_field_errors_and_opens_nothing(login, caseworker):
    client = login(caseworker)
    bad_choice = client.post("/cases/new/", {**CASE_FORM, "risk_level": "extreme"})
    assert bad_choice.status_code == 200
    assert b"Select a valid choice" in bad_choice.content

    # Refused by the service (inside its transaction): shown on the field, nothing kept.
    bad_phone = client.post(
        "/cases/new/", {**CASE_FORM, "given_name": "Ana", "family_name": "Hoxha", "phone": "12"}
    )
    assert bad_phone.status_code == 200
    assert b"That is not a possible phone number." in bad_phone.content

    future = client.post(
        "/cases/new/", {**CASE_FORM, "date_of_birth": "2999-01-01", "given_name": "Ana"}
    )
    assert future.status_code == 200
    assert b"The date of birth cannot be in the future." in future.content
    assert Case.objects.count() == 0
    assert VictimIdentity.objects.count() == 0


def test_opening_a_case_redirects_to_it(login, caseworker):
    client = login(caseworker)
    response = client.post(
        "/cases/new/",
        {**CASE_FORM, "given_name": "Mira", "family_name": "Dushi", "phone": "07700 900123"},
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.pk}/"
    assert case.exploitation_types == ["labour", "sexual"]
    assert case.interpreter_needed and case.nationality == "AL"
    assert case.identity.phone == "+447700900123"

    page = client.get(response["Location"])
    assert f"Case {case.reference} was opened.".encode() in page.content
    assert b"Mira" in page.content and b"Albania" in page.content


def test_the_same_name_and_birth_date_warn_before_a_second_case(login, case, caseworker):
    client = login(caseworker)
    form = {
        **CASE_FORM,
        "given_name": "ana",
        "family_name": "HOXHA",
        "date_of_birth": "1998-03-04",
    }
    warned = client.post("/cases/new/", form)
    assert warned.status_code == 200
    assert b"This person may already have a case" in warned.content
    assert f'href="/cases/{case.pk}/"'.encode() in warned.content
    assert case.reference.encode() in warned.content
    assert b'name="confirm_new"' in warned.content
    assert Case.objects.count() == 1
    # Naming the case disclosed whose it is: that is a read of its identity, audited.
    reasons = AuditEvent.objects.filter(action="identity.viewed", case_id=case.pk).values_list(
        "detail__why", flat=True
    )
    assert any("duplicate" in (why or "") for why in reasons)

    confirmed = client.post("/cases/new/", {**form, "confirm_new": "1"})
    assert confirmed.status_code == 302
    assert Case.objects.count() == 2


def test_no_warning_for_cases_the_user_may_not_identify(login, case, other_agency_caseworker):
    response = login(other_agency_caseworker).post(
        "/cases/new/",
        {**CASE_FORM, "given_name": "Ana", "family_name": "Hoxha", "date_of_birth": "1998-03-04"},
    )
    assert response.status_code == 302
    assert Case.objects.count() == 2


def test_editing_the_case_summary(login, case, caseworker):
    client = login(caseworker)
    form = client.get(f"/cases/{case.pk}/edit/")
    assert form.status_code == 200 and b'value="AL" selected' in form.content
    response = client.post(
        f"/cases/{case.pk}/edit/", {**CASE_FORM, "risk_level": "immediate", "county_lines": "on"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.risk_level == "immediate" and case.county_lines


# --- The case page --------------------------------------------------------------------


def test_the_case_page_shows_the_identity_and_records_the_view(login, case, caseworker):
    client = login(caseworker)
    page = client.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    assert b"Ana" in page.content and b"Hoxha" in page.content
    assert b"Edit identity" in page.content
    viewed = AuditEvent.objects.get(action="identity.viewed", case_id=case.pk)
    assert viewed.actor == caseworker

    # The lead agency sees who can see the case and who has viewed the identity, on a
    # page of its own linked from the case page.
    access_url = f"/cases/{case.pk}/access/"
    assert access_url.encode() in page.content
    access_page = client.get(access_url)
    assert b"Who can see this case and why" in access_page.content
    assert b"Harbour Trust" in access_page.content
    assert b"Who has viewed the identity and location" in access_page.content
    section = access_page.content.decode().split('id="h-viewed"', 1)[1]
    assert caseworker.get_full_name() in section
    assert "Harbour Trust" in section and "Identity" in section


def test_flags_are_shown_first_and_in_the_list(login, case, caseworker):
    client = login(caseworker)
    raised = client.post(
        f"/cases/{case.pk}/flags/new/", {"kind": "trafficker_looking", "note": "Seen near"}
    )
    assert raised.status_code == 302
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Active safeguarding flag" in page
    assert page.index("Trafficker looking for the person") < page.index('id="h-summary"')
    listing = client.get("/cases/").content.decode()
    assert "badge text-bg-danger" in listing and "Trafficker looking for the person" in listing

    flag = SafeguardingFlag.objects.get()
    assert client.post(f"/cases/{case.pk}/flags/{flag.pk}/clear/").status_code == 302
    flag.refresh_from_db()
    assert not flag.active
    again = client.post(f"/cases/{case.pk}/flags/{flag.pk}/clear/", follow=True)
    assert b"This flag was already cleared." in again.content


def test_the_list_says_which_cases_have_open_needs(login, caseworker):
    with_need = services.case_create(actor=caseworker)
    services.need_add(actor=caseworker, case=with_need, category="transport")
    without = services.case_create(actor=caseworker)
    client = login(caseworker)

    def open_needs_cell(reference: str, listing: str) -> str:
        row = listing[listing.index(reference) :]
        row = row[: row.index("</tr>")]
        return row.rsplit("<td>", 1)[1]

    listing = client.get("/cases/").content.decode()
    assert open_needs_cell(with_need.reference, listing).startswith("Yes")
    assert open_needs_cell(without.reference, listing).startswith("No")
    filtered = client.get("/cases/?open_needs=false").content.decode()
    assert without.reference in filtered and with_need.reference not in filtered


def test_needs_consents_and_notes_added_in_the_browser_appear_on_the_page(
    login, case, caseworker, council
):
    client = login(caseworker)
    assert client.get(f"/cases/{case.pk}/needs/new/").status_code == 200
    need = client.post(
        f"/cases/{case.pk}/needs/new/",
        {"category": "healthcare", "owner_agency": council.pk, "target_date": "2020-01-01"},
    )
    assert need.status_code == 302 and need["Location"].endswith("#needs")
    yesterday = timezone.localtime() - datetime.timedelta(days=1)
    consent = client.post(
        f"/cases/{case.pk}/consents/new/",
        {
            "scope": "share_identity",
            "agency": council.pk,
            "method": "written",
            "given_at": yesterday.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert consent.status_code == 302
    note = client.post(
        f"/cases/{case.pk}/notes/new/", {"body": "Met at the drop-in.", "visibility": "case_team"}
    )
    assert note.status_code == 302

    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Healthcare" in page and "Northshire Council" in page and "Overdue" in page
    assert "Share identity with a named agency" in page and "Withdraw consent" in page
    assert "Met at the drop-in." in page and "Everyone working on the case" in page
    assert Need.objects.get().owner_agency == council
    recorded = Consent.objects.get()
    assert recorded.agency == council
    assert recorded.given_at == yesterday.replace(second=0, microsecond=0)


def test_consent_and_need_errors_are_shown_on_the_form(login, case, caseworker):
    client = login(caseworker)
    response = client.post(
        f"/cases/{case.pk}/consents/new/", {"scope": "share_identity", "method": "written"}
    )
    assert response.status_code == 200
    assert b"Name the agency the person agreed to share their identity with." in response.content
    empty_note = client.post(f"/cases/{case.pk}/notes/new/", {"body": "", "visibility": "x"})
    assert empty_note.status_code == 200
    assert b"This field is required." in empty_note.content
    assert not Consent.objects.exists() and not CaseNote.objects.exists()


def test_editing_a_need_a_note_and_withdrawing_consent(login, case, caseworker, case_manager):
    need = services.need_add(actor=caseworker, case=case, category="transport")
    note = services.note_add(actor=caseworker, case=case, body="First", visibility="lead_agency")
    consent = consents.consent_record(
        actor=caseworker, case=case, scope="police_contact", method="verbal"
    )
    client = login(caseworker)
    edited = client.post(
        f"/cases/{case.pk}/needs/{need.pk}/",
        {"status": "met", "owner_agency": need.owner_agency_id, "note": "Bus pass"},
    )
    assert edited.status_code == 302
    need.refresh_from_db()
    assert need.status == "met"

    assert client.post(f"/cases/{case.pk}/notes/{note.pk}/", {"body": "Second"}).status_code == 302
    note.refresh_from_db()
    assert note.body == "Second"
    # Only the author edits a note.
    assert login(case_manager).get(f"/cases/{case.pk}/notes/{note.pk}/").status_code == 403

    withdrawn = client.post(
        f"/cases/{case.pk}/consents/{consent.pk}/withdraw/", {"reason": "Changed mind"}
    )
    assert withdrawn.status_code == 302
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None and consent.withdrawn_reason == "Changed mind"
    again = client.post(f"/cases/{case.pk}/consents/{consent.pk}/withdraw/", follow=True)
    assert b"This consent was already withdrawn." in again.content


def test_identity_and_location_forms(login, case, caseworker):
    client = login(caseworker)
    form = client.get(f"/cases/{case.pk}/identity/")
    assert form.status_code == 200 and b'value="Hoxha"' in form.content
    saved = client.post(
        f"/cases/{case.pk}/identity/",
        {"given_name": "Ana", "family_name": "Hoxha", "aliases": "Anna, A. H."},
    )
    assert saved.status_code == 302
    assert VictimIdentity.objects.get(case=case).aliases == ["Anna", "A. H."]

    assert client.post(f"/cases/{case.pk}/location/", {"address": " "}).status_code == 200
    moved = client.post(
        f"/cases/{case.pk}/location/",
        {"accommodation_type": "safe_house", "address": "1 Quay Street"},
    )
    assert moved.status_code == 302
    page = client.get(f"/cases/{case.pk}/")
    assert b"1 Quay Street" in page.content
    assert AuditEvent.objects.filter(action="location.viewed", case_id=case.pk).exists()


def test_closing_without_a_reason_is_an_error_then_close_and_reopen(login, case, caseworker):
    client = login(caseworker)
    refused = client.post(f"/cases/{case.pk}/status/", {"action": "close", "reason": ""})
    assert refused.status_code == 200
    assert b"Choose why the case is being closed." in refused.content
    other = client.post(f"/cases/{case.pk}/status/", {"action": "close", "reason": "other"})
    assert b"Say why the case is being closed." in other.content
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN

    assert client.post(f"/cases/{case.pk}/status/", {"action": "activate"}).status_code == 302
    illegal = client.post(f"/cases/{case.pk}/status/", {"action": "activate"}, follow=True)
    assert b"cannot become active" in illegal.content
    closed = client.post(
        f"/cases/{case.pk}/status/", {"action": "close", "reason": "moved_on", "note": ""}
    )
    assert closed.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert client.post(f"/cases/{case.pk}/status/", {"action": "reopen"}).status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.ACTIVE
    assert client.post(f"/cases/{case.pk}/status/", {"action": "explode"}).status_code == 400
    assert client.get(f"/cases/{case.pk}/status/").status_code == 405


# --- Documents ------------------------------------------------------------------------


def test_upload_then_download_is_audited(login, case, caseworker, private_root):
    client = login(caseworker)
    assert client.get(f"/cases/{case.pk}/documents/new/").status_code == 200
    uploaded = client.post(
        f"/cases/{case.pk}/documents/new/",
        {
            "file": SimpleUploadedFile("Ana passport.png", PNG, content_type="image/png"),
            "kind": "identity_document",
            "purpose": "support",
            "description": "Passport scan",
        },
    )
    assert uploaded.status_code == 302
    document = Document.objects.get()
    assert "Ana" not in document.file.name  # stored under a random key

    page = client.get(f"/cases/{case.pk}/")
    assert b"Passport scan" in page.content

    download = client.get(f"/cases/{case.pk}/documents/{document.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"].startswith("attachment")
    assert document.original_name in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == PNG
    assert AuditEvent.objects.filter(
        action="document.downloaded", case_id=case.pk, actor=caseworker
    ).exists()
    missing = client.get(f"/cases/{case.pk}/documents/{document.pk + 1}/download/")
    assert missing.status_code == 404


def test_a_text_file_is_refused_with_a_message(login, case, caseworker, private_root):
    response = login(caseworker).post(
        f"/cases/{case.pk}/documents/new/",
        {
            "file": SimpleUploadedFile("notes.txt", b"just some text", content_type="text/plain"),
            "kind": "other",
            "purpose": "support",
        },
    )
    assert response.status_code == 200
    assert b"Upload a PDF, a JPEG, PNG or WebP image, or a Word document." in response.content
    assert not Document.objects.exists()
    assert not list(private_root.rglob("*.*"))


# --- Lead transfer --------------------------------------------------------------------


def test_a_transfer_is_answered_by_the_receiving_case_manager(
    login, case, caseworker, council, other_agency_caseworker, partnership
):
    council_manager = member(council, Role.CASE_MANAGER, username="dana")
    client = login(caseworker)
    proposed = client.post(
        f"/cases/{case.pk}/transfer/", {"to_agency": council.pk, "reason": "Moved to the city"}
    )
    assert proposed.status_code == 302

    # The Council sees the summary only, to decide; its caseworker cannot answer.
    receiving = login(council_manager).get(f"/cases/{case.pk}/")
    assert receiving.status_code == 200
    assert b"Accept the lead" in receiving.content
    assert b"Hoxha" not in receiving.content and b"/access/" not in receiving.content
    bystander = login(other_agency_caseworker).get(f"/cases/{case.pk}/")
    assert bystander.status_code == 200 and b"Accept the lead" not in bystander.content
    transfer = case.transfers.get()
    refused = login(other_agency_caseworker).post(
        f"/cases/{case.pk}/transfer/{transfer.pk}/", {"action": "accept"}
    )
    assert refused.status_code == 403

    accepted = login(council_manager).post(
        f"/cases/{case.pk}/transfer/{transfer.pk}/", {"action": "accept"}
    )
    assert accepted.status_code == 302
    case.refresh_from_db()
    assert case.lead_agency == council
    page = login(council_manager).get(f"/cases/{case.pk}/")
    assert b"Hoxha" in page.content


def test_a_transfer_form_error_and_a_decline(
    login, case, caseworker, council, harbour, partnership
):
    council_manager = member(council, Role.CASE_MANAGER, username="dana")
    client = login(caseworker)
    missing = client.post(f"/cases/{case.pk}/transfer/", {"to_agency": council.pk, "reason": ""})
    assert missing.status_code == 200 and b"This field is required." in missing.content
    own = client.post(f"/cases/{case.pk}/transfer/", {"to_agency": harbour.pk, "reason": "x"})
    assert own.status_code == 200 and b"Select a valid choice" in own.content

    client.post(f"/cases/{case.pk}/transfer/", {"to_agency": council.pk, "reason": "Moved"})
    transfer = case.transfers.get()
    declined = login(council_manager).post(
        f"/cases/{case.pk}/transfer/{transfer.pk}/", {"action": "decline", "note": "No room"}
    )
    assert declined.status_code == 302 and declined["Location"] == "/cases/"
    assert login(council_manager).get(f"/cases/{case.pk}/").status_code == 404


# --- My open needs --------------------------------------------------------------------


def test_my_needs_lists_overdue_first(login, case, caseworker, other_agency_caseworker):
    today = timezone.localdate()
    later = services.need_add(
        actor=caseworker,
        case=case,
        category="safe_accommodation",
        target_date=today + datetime.timedelta(days=7),
    )
    overdue = services.need_add(
        actor=caseworker,
        case=case,
        category="future_planning",
        target_date=today - datetime.timedelta(days=3),
    )
    met = services.need_add(actor=caseworker, case=case, category="transport", status="met")

    page = login(caseworker).get("/cases/needs/")
    assert page.status_code == 200
    body = page.content.decode()
    assert body.index(overdue.get_category_display()) < body.index(later.get_category_display())
    assert body.count(">Overdue<") == 1
    assert met.get_category_display() not in body

    other = login(other_agency_caseworker).get("/cases/needs/").content.decode()
    assert case.reference not in other


def test_my_needs_is_for_care_roles(login, police_officer, agency_admin):
    for user in (police_officer, agency_admin):
        assert login(user).get("/cases/needs/").status_code == 403


def test_the_nav_shows_cases_to_care_roles_only(login, caseworker, police_officer):
    assert b'href="/cases/needs/"' in login(caseworker).get("/").content
    assert b'href="/cases/"' not in login(police_officer).get("/").content


# --- Query budget ---------------------------------------------------------------------


def _open_cases(caseworker, count: int) -> None:
    for i in range(count):
        case = services.case_create(actor=caseworker, exploitation_types=["labour"])
        services.flag_raise(actor=caseworker, case=case, kind="self_harm")
        if i % 2:
            services.need_add(actor=caseworker, case=case, category="healthcare")


def test_the_case_list_query_count_does_not_grow(login, caseworker):
    client = login(caseworker)
    _open_cases(caseworker, 5)
    client.get("/cases/")  # warm the session and permission caches
    with CaptureQueriesContext(connection) as few:
        small = client.get("/cases/")
    _open_cases(caseworker, 25)
    with CaptureQueriesContext(connection) as many:
        large = client.get("/cases/?ordering=-risk&status=open")
    assert small.status_code == large.status_code == 200
    assert len(re.findall(r"NMS-\d{4}-\d{5}</a>", large.content.decode())) == 25
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    # The next page keeps the filter.
    assert re.search(r'href="\?[^"]*status=open[^"]*page=2"', large.content.decode())
