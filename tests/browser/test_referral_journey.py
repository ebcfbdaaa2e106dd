"""Harbour refers a case to the Council; the Council accepts and sees summary and needs,
never the location."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from agencies.models import Partnership, Role
from agencies.services import agency_create
from casework import services as casework
from tests.browser.conftest import person


@pytest.fixture
def story(transactional_db: None) -> dict[str, Any]:
    harbour = agency_create(actor=None, name="Harbour Trust", kind="charity", country="GB")
    council = agency_create(
        actor=None, name="Northshire Council", kind="social_services", country="GB"
    )
    # Referrals travel only inside a partnership in force.
    partnership = Partnership.objects.create(name="Northshire", starts_on="2024-04-01")
    partnership.agencies.set([harbour, council])
    alice = person(harbour, "alice", Role.CASEWORKER, last_name="Adams")
    person(council, "dana", Role.CASEWORKER, last_name="Whitfield")
    case = casework.case_create(
        actor=alice, exploitation_types=["labour"], identity={"given_name": "Mihai"}
    )
    casework.need_add(actor=alice, case=case, category="safe_accommodation")
    casework.location_set(
        actor=alice, case=case, accommodation_type="safe_house", address="Safe house 2"
    )
    return {"case": case}


@pytest.mark.browser
def test_a_referral_from_harbour_to_the_council(
    page: Any,
    visit: Callable[..., Any],
    axe_check: Callable[..., Any],
    story: dict[str, Any],
    log_in: Callable[[str], None],
) -> None:
    case = story["case"]
    log_in("alice")
    visit(f"/cases/{case.pk}/")
    page.get_by_role("link", name="Refer to another agency").click()
    axe_check(page)
    page.get_by_label("Refer to").select_option(label="Northshire Council")
    page.locator("#id_kind").select_option("casework_support")
    page.get_by_label("Urgency").select_option("urgent")
    page.get_by_label("What the person needs from this agency").fill(
        "Social work support in the council area."
    )
    page.get_by_role("button", name="Send the referral").click()
    expect(page.get_by_text("Referred to Northshire Council")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Log out").click()

    log_in("dana")
    page.get_by_role("link", name="Referrals", exact=True).click()
    expect(page.locator("main")).to_contain_text(case.reference)
    axe_check(page)
    page.get_by_role("link", name=case.reference).first.click()
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_text("Accepted.")).to_be_visible()
    page.get_by_role("link", name="Open the case").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(case.reference)
    expect(page.locator("#needs")).to_contain_text("Safe accommodation")
    expect(page.locator("#location")).to_have_count(0)
    expect(page.locator("#identity")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("Safe house 2")
    axe_check(page)
