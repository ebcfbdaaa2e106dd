"""A caseworker opens a case, adds a need and a consent, and sees them on the case page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from agencies.models import Role
from agencies.services import agency_create
from audit.models import AuditEvent
from casework.models import Case
from tests.browser.conftest import person


@pytest.fixture
def caseworker_login(transactional_db: None) -> str:
    agency = agency_create(actor=None, name="Harbour Trust", kind="charity", country="GB")
    person(agency, "alice", Role.CASEWORKER, last_name="Adams")
    return "alice"


@pytest.mark.browser
def test_caseworker_opens_a_case_and_records_a_need_and_a_consent(
    page: Any,
    log_in: Callable[[str], None],
    axe_check: Callable[..., Any],
    caseworker_login: str,
) -> None:
    log_in(caseworker_login)

    page.get_by_role("link", name="Cases", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    axe_check(page)

    page.get_by_role("link", name="Open a case").click()
    axe_check(page)
    page.get_by_label("Given name").fill("Elira")
    page.get_by_label("Family name").fill("Basha")
    page.get_by_label("Labour").check()
    page.get_by_label("Risk level").select_option("high")
    page.get_by_role("button", name="Open the case").click()

    case = Case.objects.get()
    expect(page.get_by_role("heading", name=case.reference)).to_be_visible()
    expect(page.locator("#identity")).to_contain_text("Elira")
    axe_check(page)

    page.get_by_role("link", name="Record a need").click()
    axe_check(page)
    page.get_by_label("Need").select_option("healthcare")
    page.get_by_label("Target date").fill("2030-01-15")
    page.locator("main").get_by_role("button").last.click()
    expect(page.locator("#needs")).to_contain_text("Healthcare")
    expect(page.locator("#needs")).to_contain_text("15 Jan 2030")

    page.get_by_role("link", name="Record consent").click()
    axe_check(page)
    page.get_by_label("What the person agreed to").select_option("police_contact")
    page.get_by_label("How it was given").select_option("verbal")
    page.locator("main").get_by_role("button").last.click()
    expect(page.locator("#consents")).to_contain_text("Contact by the police")
    expect(page.locator("#needs")).to_contain_text("Healthcare")
    axe_check(page)

    # Every view of the identity on the way is on the record, and shown to the lead agency.
    assert AuditEvent.objects.filter(case_id=case.pk, action="identity.viewed").count() >= 3
    page.get_by_role("link", name="Who can see this case and why").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Access to")
    expect(page.locator("#access")).to_contain_text("Harbour Trust")
    expect(page.locator("#viewed")).to_contain_text("Alice")
    axe_check(page)
