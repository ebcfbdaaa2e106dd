"""The second step of signing in, as people meet it: a first sign-in that must
enrol an authenticator app (at desktop width and on a 320 px phone), a sign-in with a
one-time recovery code, and a passkey added and then used to sign in (Chromium's virtual
WebAuthn authenticator). Every page the journeys reach passes axe-core."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from agencies.models import Agency, Role, User
from agencies.second_factor import recovery_codes_issue
from agencies.services import agency_create, membership_create
from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from tests.browser.conftest import PASSWORD, fits_the_width, open_menu, person

LOGIN_PATH = "/accounts/login/"
VERIFY_PATH = "/accounts/two-factor/"
SETUP_PATH = "/accounts/two-factor/setup/"
RECOVERY_CODES_PATH = "/accounts/two-factor/recovery-codes/"


@pytest.fixture
def harbour(transactional_db: None) -> Agency:
    return agency_create(
        actor=None, name="Harbour Trust", kind="charity", country="GB", is_first_responder=True
    )


def newcomer(agency: Agency, username: str) -> User:
    """A member just invited: a password, and no second factor of any kind yet."""
    user = membership_create(
        actor=None,
        agency=agency,
        username=username,
        email=f"{username}@example.org",
        role=Role.CASEWORKER,
        first_name=username.title(),
        last_name="Newcome",
        password=PASSWORD,
    ).user
    for model in (TOTPDevice, StaticDevice, WebAuthnCredential):
        model.objects.filter(user=user).delete()
    return user


def enter_password(page: Any, visit: Callable[..., Any], username: str) -> None:
    visit(LOGIN_PATH, a11y=False)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def log_out(page: Any) -> None:
    """Through the menu, which a phone's width folds behind its toggle button."""
    open_menu(page)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in to Concord")).to_be_visible()


def code_from_key(shown_key: str) -> str:
    """What an authenticator app shows for the key as the page prints it (base32 in
    groups of four): django-otp's own TOTP, with the apps' defaults (30 s, 6 digits)."""
    key = base64.b32decode("".join(shown_key.split()))
    return f"{TOTP(key, step=30, t0=0, digits=6).token():06d}"


def at(live_server: Any, path: str, *, next_path: str | None = None) -> re.Pattern[str]:
    """The URL of ``path``, with ``?next=`` (quoted or not) when given."""
    pattern = re.escape(live_server.url + path)
    if next_path is not None:
        quoted = "".join("(?:/|%2F)" if c == "/" else re.escape(c) for c in next_path)
        pattern += r"\?next=" + quoted
    return re.compile(pattern + "$")


# --- 1. A first sign-in enrols an authenticator app ---------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 320], ids=["desktop", "phone"])
def test_a_first_sign_in_sets_up_an_authenticator_app_and_shows_recovery_codes_once(
    live_server: Any,
    page: Any,
    visit: Callable[..., Any],
    axe_check: Callable[..., Any],
    harbour: Agency,
    width: int,
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    user = newcomer(harbour, "nadia")

    # After the password, the only page there is: set up a second factor.
    enter_password(page, visit, "nadia")
    expect(page).to_have_url(at(live_server, SETUP_PATH, next_path="/"))
    expect(page.get_by_role("heading", name="Set up your second factor")).to_be_visible()
    axe_check(page)
    visit("/cases/")
    expect(page).to_have_url(at(live_server, SETUP_PATH, next_path="/cases/"))
    visit("/notifications/")
    expect(page).to_have_url(at(live_server, SETUP_PATH, next_path="/notifications/"))
    visit("/")
    expect(page).to_have_url(at(live_server, SETUP_PATH, next_path="/"))

    # The page fits a phone, the QR code included.
    assert fits_the_width(page), page.evaluate("document.documentElement.scrollWidth")
    qr = page.locator(".qr-code svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width

    # The person types the key shown into their app, and the app's code back.
    shown_key = page.locator("#totp-key").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", shown_key), shown_key
    page.get_by_label("Code from the app").fill(code_from_key(shown_key))
    page.get_by_role("button", name="Confirm the app").click()

    # Ten recovery codes, shown this once.
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    code_shape = re.compile(r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}")
    assert all(code_shape.fullmatch(code) for code in codes.all_inner_texts())
    assert fits_the_width(page)
    axe_check(page)
    page.get_by_role("link", name="I have kept them: continue").click()

    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("heading", name="Welcome, Nadia Newcome")).to_be_visible()
    axe_check(page)
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1
    assert StaticDevice.objects.get(user=user).token_set.count() == 10

    # Never again: the codes page now only counts them and offers new ones.
    visit(RECOVERY_CODES_PATH)
    expect(page.get_by_text("You have 10 unused recovery codes.")).to_be_visible()
    expect(page.locator("#recovery-codes")).to_have_count(0)
    expect(page.get_by_role("button", name="Replace them with new codes")).to_be_visible()


# --- 2. A recovery code signs in once ------------------------------------------------------


@pytest.mark.browser
def test_a_recovery_code_signs_in_once_and_says_how_many_are_left(
    live_server: Any,
    page: Any,
    visit: Callable[..., Any],
    axe_check: Callable[..., Any],
    harbour: Agency,
) -> None:
    user = person(harbour, "rosa", Role.CASEWORKER, last_name="Reyes")
    codes = recovery_codes_issue(user=user)

    enter_password(page, visit, "rosa")
    expect(page).to_have_url(at(live_server, VERIFY_PATH, next_path="/"))
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    axe_check(page)
    page.get_by_role("textbox", name="Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("heading", name="Welcome, Rosa Reyes")).to_be_visible()
    warning = page.get_by_role("status").filter(has_text="You used a recovery code; 9 left.")
    expect(warning).to_be_visible()
    axe_check(page)
    assert AuditEvent.objects.filter(
        action=AuthAction.RECOVERY_CODE_USED, target_id=str(user.pk), detail__left=9
    ).exists()
    log_out(page)

    # The same code a second time is refused, and the session stays at the second step.
    enter_password(page, visit, "rosa")
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_role("textbox", name="Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()

    # The error summary, focused, links to the field; the field keeps its own message.
    summary = page.get_by_role("group", name="There is a problem")
    expect(summary).to_be_focused()
    link = summary.get_by_role("link", name="That code is not right, or was used already.")
    expect(link).to_have_attribute("href", "#id_code")
    expect(page.locator("#id_code_error")).to_contain_text(
        "That code is not right, or was used already."
    )
    expect(page).to_have_title(re.compile(r"^Error: Your second factor"))
    expect(page.get_by_role("textbox", name="Code")).to_have_attribute("aria-invalid", "true")
    axe_check(page)
    link.click()
    expect(page.get_by_role("textbox", name="Code")).to_be_focused()
    visit("/")
    expect(page).to_have_url(at(live_server, VERIFY_PATH, next_path="/"))
    assert AuditEvent.objects.filter(
        action=AuthAction.SECOND_FACTOR_FAILED, target_id=str(user.pk), detail__device="code"
    ).exists()
    assert StaticDevice.objects.get(user=user).token_set.count() == 9


# --- 3. A passkey is added, then signs in --------------------------------------------------


@pytest.fixture
def virtual_authenticator(page: Any) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """A platform passkey authenticator in Chromium (DevTools' WebAuthn domain) that
    verifies the user and answers without a prompt; yields a function that lists the
    credentials it holds."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    authenticator_id = added["authenticatorId"]

    def credentials() -> list[dict[str, Any]]:
        answer = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
        return list(answer["credentials"])

    try:
        yield credentials
    finally:
        cdp.detach()


@pytest.mark.browser
def test_a_passkey_is_added_and_then_signs_in(
    live_server: Any,
    page: Any,
    visit: Callable[..., Any],
    axe_check: Callable[..., Any],
    harbour: Agency,
    log_in: Callable[[str], None],
    virtual_authenticator: Callable[[], list[dict[str, Any]]],
) -> None:
    user = person(harbour, "pia", Role.CASEWORKER, last_name="Park")

    # Signed in with password and app, Pia adds a passkey.
    log_in("pia")
    expect(page.get_by_role("heading", name="Welcome, Pia Park")).to_be_visible()
    visit(SETUP_PATH)
    expect(page.get_by_role("heading", name="Add a second factor")).to_be_visible()
    add = page.get_by_role("button", name="Add a passkey or security key")
    expect(add).to_be_visible()
    axe_check(page)
    add.click()

    # Her first passkey, and no recovery codes yet: they are shown now, once.
    expect(page).to_have_url(live_server.url + RECOVERY_CODES_PATH)
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    axe_check(page)
    credential = WebAuthnCredential.objects.get(user=user)
    assert credential.confirmed
    stored = virtual_authenticator()
    assert len(stored) == 1 and stored[0]["rpId"] == "localhost"
    assert AuditEvent.objects.filter(
        action=AuthAction.DEVICE_ENROLLED, target_id=str(user.pk), detail__device="webauthn"
    ).exists()
    page.get_by_role("link", name="I have kept them: continue").click()
    expect(page).to_have_url(live_server.url + "/")
    log_out(page)

    # Next time: the password, then the passkey.
    enter_password(page, visit, "pia")
    expect(page).to_have_url(at(live_server, VERIFY_PATH, next_path="/"))
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    use_passkey = page.get_by_role("button", name="Use my passkey or security key")
    expect(use_passkey).to_be_visible()
    axe_check(page)
    use_passkey.click()

    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("heading", name="Welcome, Pia Park")).to_be_visible()
    axe_check(page)
    passed = AuditEvent.objects.filter(
        action=AuthAction.SECOND_FACTOR_PASSED, target_id=str(user.pk), detail__device="webauthn"
    )
    assert passed.count() == 1
    assert passed.get().actor_id == user.pk
