"""A police officer breaks the glass on a case led by a council with no case manager and no
agency admin; the partnership's manager is told, finds it on the home page, reviews it
on its grounds without ever seeing the person's name or address (not even in the
officer's reason, which names both) — at desktop width and on a 320 px phone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from agencies.models import Partnership, Role
from agencies.services import agency_create
from casework import services as casework
from casework.models import BreakGlassEvent
from notifications.models import Notification
from tests.browser.conftest import fits_the_width, open_menu, person

NAME, ADDRESS = "Marta Kowalczyk", "14 Ropewalk Lane"
REASON = f"{NAME} collapsed at {ADDRESS}: ambulance needs the door code"


@pytest.fixture
def story(transactional_db: None) -> dict[str, Any]:
    council = agency_create(
        actor=None, name="Northshire Council", kind="social_services", country="GB"
    )
    police = agency_create(actor=None, name="Northshire Police", kind="police", country="GB")
    partnership = Partnership.objects.create(name="Northshire", starts_on="2024-04-01")
    partnership.agencies.set([council, police])
    carla = person(council, "carla", Role.CASEWORKER)
    person(council, "pam", Role.PARTNERSHIP_MANAGER)
    person(police, "olly", Role.OFFICER)
    case = casework.case_create(
        actor=carla,
        exploitation_types=["labour"],
        identity={"given_name": "Marta", "family_name": "Kowalczyk"},
    )
    casework.location_set(actor=carla, case=case, accommodation_type="safe_house", address=ADDRESS)
    return {"case": case}


def log_out(page: Any) -> None:
    """Through the menu, which a phone's width folds behind its toggle button."""
    open_menu(page)
    page.get_by_role("button", name="Log out").click()


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 320], ids=["desktop", "phone"])
def test_a_break_glass_on_a_council_case_is_reviewed_by_the_partnership_manager(
    page: Any,
    visit: Callable[..., Any],
    axe_check: Callable[..., Any],
    story: dict[str, Any],
    log_in: Callable[[str], None],
    width: int,
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    case = story["case"]

    log_in("olly")
    visit("/cases/break-glass/")
    assert fits_the_width(page)
    page.get_by_label("Case reference").fill(case.reference)
    page.get_by_label("Medical emergency", exact=True).check()
    page.get_by_label("Why a life is at risk now").fill(REASON)
    page.get_by_label("I understand that this opening is recorded and reviewed").check()
    page.get_by_role("button", name="Open identity and location for one hour").click()
    expect(page.get_by_text(NAME).first).to_be_visible()
    axe_check(page)
    log_out(page)

    # Nobody at the Council reviews (no case manager, no admin): the partnership's manager.
    event = BreakGlassEvent.objects.get(case=case)
    assert event.review_tier == "partnership_managers"
    told = Notification.objects.filter(recipient__username="pam", kind="breakglass.opened")
    assert told.count() == 1
    assert NAME.split()[0] not in told.get().message and ADDRESS not in told.get().message

    log_in("pam")
    expect(page.locator("#break-glass-to-review")).to_contain_text("Break-glass to review (1)")
    page.locator("#break-glass-to-review").get_by_role("link").click()
    expect(page.get_by_role("heading", name="Break-glass to review")).to_be_visible()
    axe_check(page)
    assert fits_the_width(page)
    page.get_by_role("link", name=case.reference).click()
    # The grounds, never the reason: it names the person and where she stays.
    expect(page.locator("#break-glass-grounds")).to_have_text("Medical emergency")
    expect(page.locator("#break-glass-reason")).to_have_text(
        "The reason is shown to the lead agency's case team."
    )
    axe_check(page)
    assert fits_the_width(page)
    content = page.content()
    assert "Marta" not in content and "Kowalczyk" not in content and ADDRESS not in content

    page.get_by_label("What the review found").fill("Justified: ambulance called.")
    page.get_by_role("button", name="Record the review").click()
    expect(page.locator("#break-glass-review")).to_contain_text("Justified: ambulance called.")
    axe_check(page)
    event.refresh_from_db()
    assert event.reviewed_by is not None and event.reviewed_by.username == "pam"
