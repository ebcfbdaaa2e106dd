"""An officer asks for evidence; the caseworker approves one document with the person's
consent; the officer downloads it; access ends when the caseworker revokes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from agencies import access
from agencies.models import Partnership, Role
from agencies.services import agency_create
from casework import consents
from casework import services as casework
from tests.browser.conftest import person

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


@pytest.fixture
def story(transactional_db: None, private_root: Any) -> dict[str, Any]:
    harbour = agency_create(actor=None, name="Harbour Trust", kind="charity", country="GB")
    police = agency_create(actor=None, name="Northshire Police", kind="police", country="GB")
    partnership = Partnership.objects.create(name="Northshire", starts_on="2024-04-01")
    partnership.agencies.set([harbour, police])
    people = {}
    for username, agency, role in (
        ("alice", harbour, Role.CASEWORKER),
        ("olly", police, Role.OFFICER),
    ):
        people[username] = person(agency, username, role)
    alice = people["alice"]
    case = casework.case_create(actor=alice, exploitation_types=["labour"])
    for name, kind in (("statement.png", "statement"), ("medical.png", "medical")):
        casework.document_upload(
            actor=alice,
            case=case,
            uploaded_file=SimpleUploadedFile(name, PNG),
            kind=kind,
            purpose="evidence",
        )
    consents.consent_record(actor=alice, case=case, scope="evidence_use", method="written")
    # Shared with the force, as an accepted crime report does.
    access.grant(actor=None, obj=case, perms=["casework.view_case"], reason=case, agency=police)
    return {"case": case}


@pytest.mark.browser
def test_officer_requests_caseworker_approves_one_document_access_ends_when_revoked(
    page: Any,
    visit: Callable[..., Any],
    axe_check: Callable[..., Any],
    story: dict[str, Any],
    log_in: Callable[[str], None],
) -> None:
    case = story["case"]
    log_in("olly")
    visit(f"/cases/{case.pk}/")
    expect(page.locator("#material")).to_contain_text("Statement")
    page.get_by_role("link", name="Ask for evidence").click()
    axe_check(page)
    page.get_by_label("Investigation or operation").fill("Operation Harvest")
    page.get_by_label("Legal basis").fill("Criminal investigation")
    page.get_by_label("Statement, uploaded", exact=False).check()
    page.get_by_label("Medical, uploaded", exact=False).check()
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("#evidence-status")).to_have_text("Pending")
    axe_check(page)
    request_path = "/cases/" + page.url.split("/cases/", 1)[1]
    page.get_by_role("button", name="Log out").click()

    log_in("alice")
    visit(request_path)
    approve = page.locator("#h-approve").locator("xpath=..")
    approve.get_by_label("Medical, uploaded", exact=False).uncheck()
    approve.get_by_label("The person was consulted, agrees, and is ready").check()
    axe_check(page)
    approve.get_by_role("button", name="Approve").click()
    expect(page.locator("#evidence-status")).to_have_text("Partly approved")
    page.get_by_role("button", name="Log out").click()

    log_in("olly")
    page.get_by_role("link", name="Evidence", exact=True).click()
    expect(page.locator("main")).to_contain_text("held now")
    axe_check(page)
    page.get_by_role("link", name=case.reference).click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    assert download.value.suggested_filename == "statement.png"
    page.get_by_role("button", name="Log out").click()

    log_in("alice")
    visit(request_path)
    page.get_by_label("Reason").fill("The person is unwell")
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("#evidence-status")).to_have_text("Revoked")
    page.get_by_role("button", name="Log out").click()

    log_in("olly")
    visit(request_path)
    expect(page.get_by_role("link", name="Download")).to_have_count(0)
