"""A negative Reasonable Grounds decision reconsidered, then the person withdrawing from
the NRM, through the NRM page at desktop width and on a 320 px
phone; and an agency in a country without an NRM told why there is nothing to do."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agencies.models import Role
from agencies.services import agency_create
from casework import services as casework
from referrals import nrm_services
from referrals.models import Decision, NRMReferral
from tests.browser.conftest import fits_the_width, harbour_nrm, person


@pytest.fixture
def story(transactional_db: None) -> dict[str, Any]:
    alice, case, nrm = harbour_nrm()
    nrm_services.nrm_update(
        actor=alice,
        nrm=nrm,
        rg_decision=Decision.NEGATIVE,
        rg_decided_on=timezone.localdate() - datetime.timedelta(days=4),
    )
    ljubljana = agency_create(
        actor=None, name="Ljubljana Police", kind="police", country="SI", is_first_responder=True
    )
    luka = person(ljubljana, "luka", Role.CASE_MANAGER, last_name="Novak")
    slovenian_case = casework.case_create(actor=luka, exploitation_types=["sexual"])
    return {"case": case, "nrm": nrm, "slovenian_case": slovenian_case}


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 320], ids=["desktop", "phone"])
def test_a_negative_rg_is_reconsidered_then_the_person_withdraws(
    page: Any,
    visit: Callable[..., Any],
    axe_check: Callable[..., Any],
    story: dict[str, Any],
    log_in: Callable[[str], None],
    width: int,
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    case, nrm = story["case"], story["nrm"]
    record = page.locator(f"section[aria-labelledby='h-nrm-{nrm.pk}']")
    today = timezone.localdate()

    log_in("alice")
    visit(f"/cases/{case.pk}/")
    page.get_by_role("link", name="NRM", exact=True).click()
    expect(record).to_contain_text("Reconsideration can be asked until")

    # The request without its grounds: the error summary says what is missing.
    record.get_by_text("Record a request for reconsideration").click()
    record.locator(f"#id_recon{nrm.pk}_requested_on").fill(today.isoformat())
    record.locator(f"#id_recon{nrm.pk}_requested_by").select_option("representative")
    record.get_by_role("button", name="Record the request").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text("Give the grounds of the request.")
    axe_check(page)
    assert fits_the_width(page)
    record.locator(f"#id_recon{nrm.pk}_grounds").fill("New evidence from the employer's records.")
    record.get_by_role("button", name="Record the request").click()
    expect(page.get_by_text("The reconsideration request is recorded.")).to_be_visible()
    expect(record).to_contain_text("Waiting for the competent authority")
    expect(record).not_to_contain_text("Reconsideration can be asked until")
    axe_check(page)

    # The competent authority overturns it: the recovery period runs from today.
    record.get_by_text("Record the outcome of the reconsideration").click()
    record.get_by_label("Overturned: positive decision").check()
    record.locator(f"#id_outcome{nrm.pk}_outcome_on").fill(today.isoformat())
    record.get_by_role("button", name="Record the outcome").click()
    expect(page.get_by_text("The outcome is recorded; the clocks follow it.")).to_be_visible()
    expect(record).to_contain_text("Recovery period ends")
    axe_check(page)
    assert fits_the_width(page)

    # The person leaves the NRM: confirmed, recorded, the clocks gone.
    record.get_by_text("The person withdraws from the NRM").click()
    record.get_by_role("button", name="Record the withdrawal").click()
    expect(summary).to_contain_text("Confirm that the person asked to leave the NRM.")
    record.get_by_label("The person has asked to leave the NRM").check()
    record.get_by_role("button", name="Record the withdrawal").click()
    expect(page.get_by_text("The withdrawal is recorded")).to_be_visible()
    expect(record).to_contain_text("The person withdrew on")
    expect(record).not_to_contain_text("Recovery period ends")
    axe_check(page)
    assert fits_the_width(page)

    saved = NRMReferral.objects.get(pk=nrm.pk)
    assert saved.rg_decision == Decision.POSITIVE and saved.rg_decided_on == today
    assert saved.is_withdrawn


@pytest.mark.browser
def test_an_agency_without_an_nrm_is_told_why(
    page: Any,
    visit: Callable[..., Any],
    story: dict[str, Any],
    log_in: Callable[[str], None],
) -> None:
    page.set_viewport_size({"width": 320, "height": 900})
    log_in("luka")
    visit(f"/cases/{story['slovenian_case'].pk}/")
    expect(page.get_by_role("link", name="NRM", exact=True)).to_have_count(0)
    visit(f"/referrals/cases/{story['slovenian_case'].pk}/nrm/")
    expect(page.get_by_role("heading", name="No NRM for your agency")).to_be_visible()
    expect(page.get_by_role("button", name="Record an NRM referral")).to_have_count(0)
    expect(page.get_by_role("button", name="Record the MS1")).to_have_count(0)
    assert fits_the_width(page)
