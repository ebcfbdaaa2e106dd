"""A caseworker signs in, sees their home page, signs out: every page passes axe-core."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from playwright.sync_api import expect

from agencies.models import Agency, Role, User
from agencies.services import agency_create
from agencies.tests.factories import code_for
from tests.browser.conftest import PASSWORD, person

LOGIN_PATH = "/accounts/login/"


@pytest.fixture
def harbour_caseworker(transactional_db: None) -> tuple[Agency, str]:
    agency = agency_create(
        actor=None, name="Harbour Trust", kind="charity", country="GB", is_first_responder=True
    )
    person(agency, "alice", Role.CASEWORKER, last_name="Adams")
    return agency, "alice"


def at_login_page_with_next(live_server: Any) -> re.Pattern[str]:
    # Django quotes the path in ?next= or not, depending on the version: accept both.
    return re.compile(re.escape(live_server.url + LOGIN_PATH) + r"\?next=(/|%2F)$")


@pytest.mark.browser
def test_caseworker_logs_in_sees_their_home_page_and_logs_out(
    live_server: Any,
    page: Any,
    visit: Callable[..., Any],
    axe_check: Callable[..., Any],
    harbour_caseworker: tuple[Agency, str],
) -> None:
    agency, username = harbour_caseworker

    # Anonymous: the home page sends you to the login page.
    visit("/")
    expect(page).to_have_url(at_login_page_with_next(live_server))
    expect(page.get_by_role("heading", name="Log in to Concord")).to_be_visible()

    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # The password alone opens nothing: the second step asks for the app's code.
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    axe_check(page)
    page.get_by_role("textbox", name="Code").fill(code_for(User.objects.get(username=username)))
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_text(f"You are signed in as Caseworker at {agency.name}")).to_be_visible()
    expect(page.get_by_role("heading", name="Welcome, Alice Adams")).to_be_visible()
    axe_check(page)

    page.get_by_role("button", name="Log out").click()
    if settings.LOGOUT_REDIRECT_URL:
        # Concord sends you straight back to the login page after logging out.
        expect(page).to_have_url(live_server.url + resolve_url(settings.LOGOUT_REDIRECT_URL))
        expect(page.get_by_role("heading", name="Log in to Concord")).to_be_visible()
    else:
        expect(page.get_by_role("heading", name="You have logged out")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    axe_check(page)

    # The session is over: the home page asks you to log in again.
    visit("/")
    expect(page).to_have_url(at_login_page_with_next(live_server))


@pytest.mark.browser
def test_wrong_password_is_refused_with_an_error(
    live_server: Any,
    page: Any,
    visit: Callable[..., Any],
    axe_check: Callable[..., Any],
    harbour_caseworker: tuple[Agency, str],
) -> None:
    _, username = harbour_caseworker

    visit(LOGIN_PATH)
    expect(page.get_by_role("group", name="There is a problem")).to_have_count(0)

    # No password: the error summary at the top of the page, focused, links to the field.
    page.get_by_label("Username").fill(username)
    page.get_by_role("button", name="Log in").click()
    summary = page.get_by_role("group", name="There is a problem")
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: Log in"))
    link = summary.get_by_role("link", name="This field is required.")
    expect(link).to_have_attribute("href", "#id_password")
    expect(page.locator("#id_password_error")).to_have_text("This field is required.")
    axe_check(page)
    link.click()
    expect(page.get_by_label("Password")).to_be_focused()

    # A wrong password: the form's own error, in the summary only (no link, no second
    # alert inside the form).
    page.get_by_label("Password").fill("not-the-right-password")
    page.get_by_role("button", name="Log in").click()

    summary = page.get_by_role("group", name="There is a problem")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Please enter a correct username and password.")
    expect(summary.get_by_role("link")).to_have_count(0)
    expect(page.get_by_text("Please enter a correct username and password.")).to_have_count(1)
    expect(page).to_have_title(re.compile(r"^Error: Log in"))
    expect(page).to_have_url(re.compile(re.escape(live_server.url + LOGIN_PATH)))
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    axe_check(page)
