"""Harbour and the Council both know a person: Harbour's caseworker sees which
agency to contact, never the Council's case, and answers "not the same person"."""

from __future__ import annotations

import datetime
import re
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
        actor=None,
        name="Northshire Council",
        kind="social_services",
        country="GB",
        intelligence_contact="mash@council.example",
    )
    partnership = Partnership.objects.create(name="Northshire", starts_on="2024-04-01")
    partnership.agencies.set([harbour, council])
    alice = person(harbour, "alice", Role.CASEWORKER, last_name="Adams")
    dana = person(council, "dana", Role.CASEWORKER, last_name="Whitfield")
    born = datetime.date(1990, 3, 3)
    ours = casework.case_create(
        actor=alice,
        identity={"given_name": "Ana", "family_name": "Novák", "date_of_birth": born},
    )
    theirs = casework.case_create(
        actor=dana,
        identity={"given_name": "ANA", "family_name": "NOVAK", "date_of_birth": born},
    )
    return {"ours": ours, "theirs": theirs}


@pytest.mark.browser
def test_a_possible_match_at_another_agency_is_answered(
    page: Any,
    log_in: Callable[[str], None],
    visit: Callable[..., Any],
    axe_check: Callable[..., Any],
    story: dict[str, Any],
) -> None:
    ours, theirs = story["ours"], story["theirs"]
    log_in("alice")
    visit(f"/cases/{ours.pk}/")
    matches = page.locator("#possible-duplicates")
    expect(matches).to_contain_text("Northshire Council")
    expect(matches.get_by_role("link", name="mash@council.example")).to_have_attribute(
        "href", "mailto:mash@council.example"
    )
    expect(matches).to_contain_text("Exact: the same names and date of birth")
    expect(page.locator("main")).not_to_contain_text(theirs.reference)

    matches.get_by_role("link", name=re.compile("Not the same person")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Not the same person")
    axe_check(page)

    # No reason: the error summary, focused, links to the field.
    page.get_by_role("button", name="Mark as not the same person").click()
    summary = page.get_by_role("group", name="There is a problem")
    expect(summary).to_be_focused()
    expect(
        summary.get_by_role("link", name="Say why this is not the same person.")
    ).to_have_attribute("href", "#id_reason")
    axe_check(page)

    page.get_by_label("Why is this not the same person?").fill("Born in Tirana; theirs in Brno")
    page.get_by_role("button", name="Mark as not the same person").click()
    expect(page.locator("main")).to_contain_text(
        "The possible match at Northshire Council was marked as not the same person."
    )
    expect(page.locator("#possible-duplicates")).to_contain_text("No possible matches")
    axe_check(page)
