"""Harbour records the support allocation of a person whose NRM referral has a positive
Reasonable Grounds decision: the form shows what is recorded, and
saving the allocation alone keeps the decision, its date and the recovery-period clock —
at desktop width and on a 320 px phone."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from casework import consents
from referrals import nrm_services
from referrals.models import Decision, NRMReferral
from tests.browser.conftest import fits_the_width, harbour_nrm


@pytest.fixture
def story(transactional_db: None) -> dict[str, Any]:
    alice, case, nrm = harbour_nrm()
    rg_day = timezone.localdate() - datetime.timedelta(days=3)
    nrm_services.nrm_update(
        actor=alice,
        nrm=nrm,
        competent_authority_reference="CA-2026-17",
        rg_decision=Decision.POSITIVE,
        rg_decided_on=rg_day,
    )
    # The person asked for support under the NRM: the provider's 48-hour clock may run.
    consents.consent_record(actor=alice, case=case, scope="nrm_support", method="written")
    nrm.refresh_from_db()
    return {"case": case, "nrm": nrm}


def day(value: datetime.date) -> str:
    """A date as the page writes it ("j M Y")."""
    return f"{value.day} {value:%b %Y}"


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 320], ids=["desktop", "phone"])
def test_recording_support_keeps_the_positive_rg_and_its_recovery_clock(
    page: Any,
    visit: Callable[..., Any],
    axe_check: Callable[..., Any],
    story: dict[str, Any],
    log_in: Callable[[str], None],
    width: int,
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    case, nrm = story["case"], story["nrm"]
    rg_day, recovery_ends = nrm.rg_decided_on, nrm.recovery_period_ends
    record = page.locator(f"section[aria-labelledby='h-nrm-{nrm.pk}']")

    log_in("alice")
    visit(f"/referrals/cases/{case.pk}/nrm/")
    assert fits_the_width(page)
    expect(record).to_contain_text(f"Positive ({day(rg_day)})")
    expect(record).to_contain_text(f"Recovery period ends{day(recovery_ends)}")

    # The form shows what is recorded now.
    record.get_by_text("Record a decision or support allocation").click()
    axe_check(page)
    assert fits_the_width(page)
    expect(record.get_by_label("Competent authority reference")).to_have_value("CA-2026-17")
    expect(record.get_by_label("Reasonable Grounds decision")).to_have_value("positive")
    expect(record.get_by_label("Reasonable Grounds decided on")).to_have_value(rg_day.isoformat())
    expect(record.get_by_label("Conclusive Grounds decision")).to_have_value("pending")
    expect(record.get_by_label("Support provider allocated at")).to_have_value("")

    # Record the support allocation, and only that.
    allocated = timezone.localtime() - datetime.timedelta(hours=1)
    record.get_by_label("Support provider allocated at").fill(allocated.strftime("%Y-%m-%dT%H:%M"))
    record.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The NRM record is updated.")).to_be_visible()
    axe_check(page)
    assert fits_the_width(page)

    # The decision, its date and the recovery-period clock are still there; the support
    # provider's first-contact clock now runs too.
    expect(record).to_contain_text(f"Positive ({day(rg_day)})")
    expect(record).to_contain_text(f"Recovery period ends{day(recovery_ends)}")
    expect(record).to_contain_text("Support provider's first contact due")
    record.get_by_text("Record a decision or support allocation").click()
    expect(record.get_by_label("Reasonable Grounds decision")).to_have_value("positive")
    expect(record.get_by_label("Reasonable Grounds decided on")).to_have_value(rg_day.isoformat())
    expect(record.get_by_label("Support provider allocated at")).to_have_value(
        allocated.strftime("%Y-%m-%dT%H:%M")
    )
    axe_check(page)

    saved = NRMReferral.objects.get(pk=nrm.pk)
    assert saved.rg_decision == Decision.POSITIVE and saved.rg_decided_on == rg_day
    assert saved.competent_authority_reference == "CA-2026-17"
    assert saved.support_allocated_at == allocated.replace(second=0, microsecond=0)
