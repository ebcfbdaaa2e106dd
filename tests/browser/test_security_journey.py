"""A member loses their phone: their agency admin resets their second factors
from the member's page, after a confirmation page; the member then meets the setup page
at their next sign-in. And a user's own Security page. Desktop and a 320 px phone; every
page passes axe-core and fits the width."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from agencies.models import Agency, Role
from agencies.services import agency_create
from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from notifications.models import NotificationEvent
from tests.browser.conftest import PASSWORD, fits_the_width, open_menu, person


@pytest.fixture
def harbour(transactional_db: None) -> Agency:
    agency = agency_create(actor=None, name="Harbour Trust", kind="charity", country="GB")
    person(agency, "ada", Role.AGENCY_ADMIN, last_name="Admin")
    person(agency, "cara", Role.CASEWORKER, last_name="Caseworker")
    return agency


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 320], ids=["desktop", "phone"])
def test_an_admin_resets_a_members_second_factors_after_confirming(
    page: Any,
    visit: Callable[..., Any],
    axe_check: Callable[..., Any],
    log_in: Callable[[str], None],
    harbour: Agency,
    width: int,
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    log_in("ada")
    visit("/agency/users/")
    page.get_by_role("link", name="cara").click()
    expect(page.get_by_text("Set up: authenticator app.")).to_be_visible()
    assert fits_the_width(page)
    axe_check(page)

    page.get_by_role("link", name="Reset their second factors").click()
    expect(page.get_by_role("heading", name="Reset the second factors of cara?")).to_be_visible()
    assert TOTPDevice.objects.filter(user__username="cara").exists()  # nothing yet
    assert fits_the_width(page)
    axe_check(page)
    page.get_by_role("button", name="Reset their second factors").click()

    expect(page.get_by_text("cara's second factors were reset")).to_be_visible()
    expect(page.get_by_text("Not set up yet")).to_be_visible()
    axe_check(page)
    assert not TOTPDevice.objects.filter(user__username="cara").exists()
    assert AuditEvent.objects.filter(action=AuthAction.DEVICES_RESET).count() == 1
    assert NotificationEvent.objects.filter(kind="account.second_factors_reset").exists()

    # Cara's next sign-in: after the password, the setup page and nothing else.
    open_menu(page)
    page.get_by_role("button", name="Log out").click()
    visit("/accounts/login/", a11y=False)
    page.get_by_label("Username").fill("cara")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Set up your second factor")).to_be_visible()
    assert fits_the_width(page)
    axe_check(page)


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 320], ids=["desktop", "phone"])
def test_the_security_page_shows_ones_second_factors(
    page: Any,
    visit: Callable[..., Any],
    axe_check: Callable[..., Any],
    log_in: Callable[[str], None],
    harbour: Agency,
    width: int,
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    log_in("cara")
    open_menu(page)
    page.get_by_role("link", name="Security").click()
    expect(page.get_by_role("heading", name="Security", exact=True)).to_be_visible()
    expect(page.get_by_text("You have no recovery codes yet.")).to_be_visible()
    assert fits_the_width(page)
    axe_check(page)

    # Her only app cannot be removed: she is told why, and it stays.
    page.get_by_role("button", name="Remove").click()
    expect(page.get_by_text("This is your only authenticator app or passkey")).to_be_visible()
    assert TOTPDevice.objects.filter(user__username="cara").count() == 1
    axe_check(page)
