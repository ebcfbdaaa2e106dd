"""A labour inspector records a car-wash visit with its indicators and submits intelligence
from it, with handling conditions, to the partnership at TLP:AMBER; a police analyst finds
it by search, acknowledges the conditions, and reads the summary."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agencies.models import Partnership, Role
from agencies.services import agency_create
from intelligence import operations
from intelligence.models import IntelligenceReport, PremisesVisit
from tests.browser.conftest import person

CONDITIONS = "Do not visit the car wash without the Labour Inspectorate: workers may be moved."


@pytest.fixture
def story(transactional_db: None) -> dict[str, Any]:
    police = agency_create(actor=None, name="Northshire Police", kind="police", country="GB")
    inspectorate = agency_create(
        actor=None, name="Labour Inspectorate", kind="labour_inspectorate", country="GB"
    )
    partnership = Partnership.objects.create(name="Northshire", starts_on="2024-04-01")
    partnership.agencies.set([police, inspectorate])
    people = {}
    for username, agency, role in (
        ("julia", inspectorate, Role.OFFICER),
        ("grace", police, Role.ANALYST),
    ):
        people[username] = person(agency, username, role)
    operation = operations.operation_create(
        actor=people["grace"],
        name="Operation Lather",
        starts_on=timezone.localdate() - datetime.timedelta(days=30),
        partner_agencies=[inspectorate],
    )
    return {"operation": operation}


@pytest.mark.browser
def test_inspector_reports_from_a_visit_and_the_analyst_reads_it_after_the_conditions(
    page: Any,
    visit: Callable[..., Any],
    axe_check: Callable[..., Any],
    story: dict[str, Any],
    log_in: Callable[[str], None],
) -> None:
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    log_in("julia")
    page.get_by_role("link", name="Intelligence", exact=True).click()
    expect(page.get_by_role("heading", name="Intelligence", exact=True)).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="Operations and visits").click()
    axe_check(page)
    page.get_by_role("link", name="Operation Lather").click()
    expect(page.get_by_role("heading", name="Record a visit")).to_be_visible()
    axe_check(page)

    page.get_by_label("Premises type").select_option(label="Car wash")
    page.get_by_label("Postcode district").fill("ne1")
    page.get_by_label("Date of the visit").fill(yesterday.isoformat())
    page.get_by_label("Workers present").fill("5")
    page.get_by_label("Living on site").check()
    page.get_by_label("No identity documents").check()
    page.get_by_label("Outcome").select_option(label="Potential victims identified")
    page.get_by_label("Notes").fill("The manager answered every question for the workers.")
    page.get_by_role("button", name="Record the visit").click()
    expect(page).to_have_url(re.compile(r"/intelligence/visits/\d+/$"))
    expect(page.locator("#visit-indicators")).to_contain_text("Living on site")
    axe_check(page)

    page.get_by_role("link", name="Start an intelligence report from this visit").click()
    expect(page.get_by_label("Summary (travels to other agencies)")).to_contain_text(
        "living on site"
    )
    axe_check(page)
    page.get_by_label("C · Lawful sharing permitted with conditions").check()
    page.get_by_label("Handling conditions", exact=True).fill(CONDITIONS)
    expect(page.get_by_label("TLP:AMBER", exact=True)).to_be_checked()
    expect(page.get_by_label("The partnership", exact=True)).to_be_checked()
    page.get_by_label("Entities").fill("phone: +44 7400 123456")
    page.get_by_role("button", name="Submit the report").click()
    expect(page).to_have_url(re.compile(r"/intelligence/\d+/$"))
    # Matching is done by a worker moments later: every submit is confirmed alike.
    expect(page.locator("main .alert[role=status]")).to_contain_text(
        "Matches with other agencies' reports, if any, appear in your matches shortly."
    )
    expect(page.locator("#tlp-banner")).to_contain_text("TLP:AMBER")
    expect(page.locator("#report-full-text")).to_contain_text("The manager answered")
    axe_check(page)
    report = IntelligenceReport.objects.get()
    assert report.handling_code == "C" and report.distribution == "partnership"
    assert PremisesVisit.objects.get().report == report
    page.get_by_role("button", name="Log out").click()

    log_in("grace")
    visit("/intelligence/")
    page.get_by_label("Words").fill("car wash")
    page.get_by_role("button", name="Search").click()
    row = page.get_by_role("row").filter(has_text="Premises visit: car wash")
    expect(row).to_have_count(1)
    assert "car" not in page.url  # the search is posted: no words in the URL
    expect(row).to_contain_text("Conditions apply — open to read")
    expect(row).to_contain_text("Labour Inspectorate")
    axe_check(page)
    row.get_by_role("link").click()
    expect(page.locator("#conditions")).to_contain_text(CONDITIONS)
    expect(page.locator("#report-summary")).to_have_count(0)
    axe_check(page)
    page.get_by_role("button", name="I acknowledge these conditions").click()
    expect(page.locator("#report-summary")).to_contain_text("Indicators observed")
    expect(page.locator("main")).not_to_contain_text("The manager answered")
    axe_check(page)
