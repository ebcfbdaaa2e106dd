"""A second factor at every door: after the password, a browser session
can do nothing but enrol a first device or pass the second step; the API issues a token
only with a valid code; the admin needs a verified session too. Wrong codes are audited
and count towards django-axes' lockout of the username, and no code is ever audited.

django-otp throttles a device for a second after each wrong code (then 2 s, 4 s, …), so
a test that wants a code accepted does not first send that device a wrong one."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.test import APIClient

from agencies.models import Role, User
from agencies.second_factor import current_code, recovery_codes_issue
from agencies.tests.factories import (
    PASSWORD,
    MembershipFactory,
    UserFactory,
    code_for,
    give_authenticator,
    sign_in,
    verify_session,
)
from audit.audit_actions import AuthAction
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
VERIFY = "/accounts/two-factor/"
SETUP = "/accounts/two-factor/setup/"
RECOVERY = "/accounts/two-factor/recovery-codes/"
TOKEN = "/api/v1/auth/token/"
ME = "/api/v1/me/"
WRONG_CREDENTIALS = {"detail": "Unable to sign in with the username, password and code given."}
RECOVERY_CODE = re.compile(r"<li>([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})</li>")
LOCKED = b"This account is locked for now"


# --- helpers ------------------------------------------------------------------------------


def without_device(agency: Any, username: str) -> User:
    """A member who has never set up a second factor."""
    return MembershipFactory(
        agency=agency, role=Role.CASEWORKER, user=UserFactory(username=username)
    ).user


def password_only(user: User) -> Client:
    """A browser past the first step only: the password was right."""
    client = Client()
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def pending_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=False)


def wrong_code(device: TOTPDevice) -> str:
    """A 6-digit code ``device`` accepts at no time step near now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    now = totp.t()
    near = {f"{hotp(device.bin_key, t, digits=6):06d}" for t in range(now - 10, now + 11)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in near)


def app_of(user: User) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=True)


def codes_shown(response: Any) -> list[str]:
    return RECOVERY_CODE.findall(response.content.decode())


def token_request(username: str, password: str, otp: str | None = None) -> Any:
    data = {"username": username, "password": password}
    if otp is not None:
        data["otp"] = otp
    return APIClient().post(TOKEN, data, format="json")


def audited(action: str, user: User) -> list[dict[str, Any]]:
    return list(
        AuditEvent.objects.filter(action=action, actor=user)
        .order_by("id")
        .values_list("detail", flat=True)
    )


def continue_link(response: Any) -> str:
    """Where the recovery codes page's "continue" button leads."""
    return re.search(r'href="([^"]*)">I have kept them', response.content.decode()).group(1)


def all_audit_details() -> str:
    return json.dumps(list(AuditEvent.objects.values_list("detail", flat=True)))


# --- a user with no device: enrol before anything else ------------------------------------


def test_after_the_password_a_user_without_a_device_is_sent_to_set_one_up(harbour):
    dana = without_device(harbour, "dana")
    client = password_only(dana)
    for page in ("/", "/cases/", "/notifications/", "/accounts/password-change/"):
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"] == f"{SETUP}?next={page}"
    # The steps themselves and signing out stay open.
    assert client.get(SETUP).status_code == 200
    assert client.post("/accounts/logout/").status_code == 302


def test_a_superuser_without_a_device_is_sent_to_set_one_up_from_the_admin(admin_user):
    client = Client()
    assert client.post(LOGIN, {"username": "admin", "password": "password"}).status_code == 302
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=/admin/"
    assert client.get("/admin/auth/group/")["Location"].startswith(SETUP)


def test_the_setup_page_shows_a_qr_code_and_the_key_and_keeps_them_across_reloads(harbour):
    dana = without_device(harbour, "dana")
    client = password_only(dana)
    first = client.get(SETUP)
    assert first.status_code == 200
    content = first.content.decode()
    assert "<svg" in content
    device = pending_device(dana)
    key = base64.b32encode(device.bin_key).decode()
    shown = re.search(r'id="totp-key">([^<]+)</code>', content).group(1)
    assert shown.replace(" ", "") == key

    again = client.get(SETUP)
    assert pending_device(dana).pk == device.pk  # still one pending device, the same
    assert re.search(r'id="totp-key">([^<]+)</code>', again.content.decode()).group(1) == shown


def test_a_wrong_code_does_not_confirm_the_app(harbour):
    dana = without_device(harbour, "dana")
    client = password_only(dana)
    client.get(SETUP)
    response = client.post(SETUP, {"code": wrong_code(pending_device(dana)), "next": "/"})
    assert response.status_code == 200
    assert "That code does not match" in response.content.decode()
    assert not pending_device(dana).confirmed
    assert not StaticToken.objects.filter(device__user=dana).exists()
    assert client.get("/")["Location"].startswith(SETUP)
    assert not audited(AuthAction.DEVICE_ENROLLED, dana)


def test_the_right_code_confirms_the_app_shows_ten_recovery_codes_and_verifies_the_session(
    harbour, settings
):
    dana = without_device(harbour, "dana")
    client = password_only(dana)
    client.get(client.get("/")["Location"])  # the setup page, ?next=/
    device = pending_device(dana)
    code = current_code(device)

    response = client.post(SETUP, {"code": code, "next": "/"})
    assert response.status_code == 200
    codes = codes_shown(response)
    assert len(codes) == len(set(codes)) == settings.RECOVERY_CODES == 10
    assert set(StaticToken.objects.filter(device__user=dana).values_list("token", flat=True)) == (
        set(codes)
    )
    assert continue_link(response) == "/"  # where the user was going
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/").status_code == 200  # verified by the enrolment itself

    assert audited(AuthAction.DEVICE_ENROLLED, dana) == [
        {"device": "totp"},
        {"device": "recovery_code"},
    ]
    details = all_audit_details()
    key_b32 = base64.b32encode(device.bin_key).decode()
    for secret in [code, device.key, key_b32, *codes]:
        assert secret not in details


def test_the_first_recovery_codes_after_a_passkey_link_back_to_the_home_page(caseworker):
    """After a first passkey the page asks for the codes with no ``next``: its "continue"
    link must still lead somewhere real (LOGIN_REDIRECT_URL is a URL name, "home")."""
    client = Client()
    client.force_login(caseworker)
    verify_session(client, caseworker)
    response = client.get(RECOVERY)
    assert response.status_code == 200
    assert len(codes_shown(response)) == 10
    assert continue_link(response) == "/"  # not "home", a link to .../recovery-codes/home


def test_a_stolen_password_cannot_add_a_device_to_an_enrolled_user(caseworker):
    client = password_only(caseworker)
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next={SETUP.replace('/', '%2F')}"
    assert client.post(SETUP, {"code": "123456"}).status_code == 302
    # No pending authenticator was made for the thief to scan, nor a passkey begun.
    assert list(TOTPDevice.objects.filter(user=caseworker)) == [app_of(caseworker)]
    passkey = client.post("/webauthn/registration/begin/", content_type="application/json")
    assert passkey.status_code == 403
    assert "otp_webauthn_register_state" not in client.session
    # Nor replace the recovery codes.
    assert client.post(RECOVERY)["Location"].startswith(VERIFY)
    assert not StaticToken.objects.filter(device__user=caseworker).exists()


# --- the second step ------------------------------------------------------------------------


def test_a_wrong_code_is_refused_and_audited_without_the_code(caseworker):
    client = password_only(caseworker)
    code = wrong_code(app_of(caseworker))
    response = client.post(VERIFY, {"code": code, "next": "/"})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert client.get("/")["Location"] == f"{VERIFY}?next=/"
    assert audited(AuthAction.SECOND_FACTOR_FAILED, caseworker) == [{"device": "code"}]
    assert code not in all_audit_details()


def test_wrong_codes_lock_the_username_out_and_sign_the_session_out(caseworker, settings):
    limit = settings.AXES_FAILURE_LIMIT
    client = password_only(caseworker)
    code = wrong_code(app_of(caseworker))
    statuses = [client.post(VERIFY, {"code": code}).status_code for _ in range(limit - 1)]
    assert statuses == [200] * (limit - 1)

    locked = client.post(VERIFY, {"code": code})
    assert locked.status_code == 429
    assert LOCKED in locked.content
    assert client.get("/")["Location"] == f"{LOGIN}?next=/"  # signed out
    again = Client().post(LOGIN, {"username": "alice", "password": PASSWORD})
    assert again.status_code == 429  # and the password no longer opens the first step
    assert len(audited(AuthAction.SECOND_FACTOR_FAILED, caseworker)) == limit


def test_signing_in_again_with_the_password_gives_no_fresh_allowance_of_code_guesses(
    caseworker, settings
):
    """The password alone is not a success: were it to reset the count, whoever holds the
    password could guess codes for ever, a few per session."""
    limit = settings.AXES_FAILURE_LIMIT
    code = wrong_code(app_of(caseworker))
    first = password_only(caseworker)
    for _ in range(limit - 1):
        assert first.post(VERIFY, {"code": code}).status_code == 200
    second = password_only(caseworker)
    locked = second.post(VERIFY, {"code": code})
    assert locked.status_code == 429
    assert second.get("/")["Location"] == f"{LOGIN}?next=/"


def test_a_session_past_the_password_cannot_pass_the_second_step_once_the_username_is_locked(
    caseworker, settings
):
    """A session opened before the lockout gets no more guesses after it, right or wrong."""
    browser = password_only(caseworker)
    code = wrong_code(app_of(caseworker))
    for _ in range(settings.AXES_FAILURE_LIMIT):
        cache.clear()  # the token endpoint's own throttle is not what is tested here
        token_request("alice", PASSWORD, code)
    assert Client().post(LOGIN, {"username": "alice", "password": PASSWORD}).status_code == 429
    app = app_of(caseworker)
    app.throttle_reset()  # django-otp's own back-off after those failures is not tested here
    response = browser.post(VERIFY, {"code": current_code(app)})
    assert response.status_code == 429
    assert browser.get("/")["Location"] == f"{LOGIN}?next=/"


def test_the_right_code_goes_on_to_next(caseworker):
    client = password_only(caseworker)
    response = client.post(VERIFY, {"code": code_for(caseworker), "next": "/cases/"})
    assert response.status_code == 302
    assert response["Location"] == "/cases/"
    assert client.get("/").status_code == 200
    assert client.get("/cases/").status_code == 200
    assert audited(AuthAction.SECOND_FACTOR_PASSED, caseworker) == [{"device": "totp"}]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "http:evil"])
def test_a_next_off_the_site_is_ignored(caseworker, target):
    client = password_only(caseworker)
    page = client.get(VERIFY, {"next": target})
    assert "evil" not in page.content.decode()
    response = client.post(VERIFY, {"code": code_for(caseworker), "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/"  # LOGIN_REDIRECT_URL


def test_a_code_is_accepted_once(caseworker):
    code = code_for(caseworker)
    first, second = password_only(caseworker), password_only(caseworker)
    assert first.post(VERIFY, {"code": code})["Location"] == "/"
    replay = second.post(VERIFY, {"code": code})
    assert replay.status_code == 200
    assert "That code is not right" in replay.content.decode()
    assert second.get("/")["Location"] == f"{VERIFY}?next=/"


# --- recovery codes -----------------------------------------------------------------------


def test_a_recovery_code_works_once(caseworker):
    codes = recovery_codes_issue(user=caseworker)
    client = password_only(caseworker)
    response = client.post(VERIFY, {"code": codes[0], "next": "/"}, follow=True)
    assert response.status_code == 200 and response.request["PATH_INFO"] == "/"
    assert "You used a recovery code; 9 left" in response.content.decode()
    assert not StaticToken.objects.filter(device__user=caseworker, token=codes[0]).exists()
    assert audited(AuthAction.RECOVERY_CODE_USED, caseworker) == [{"left": 9}]
    assert {"device": "recovery_code"} in audited(AuthAction.SECOND_FACTOR_PASSED, caseworker)
    assert codes[0] not in all_audit_details()

    again = password_only(caseworker).post(VERIFY, {"code": codes[0]})
    assert again.status_code == 200
    assert "That code is not right" in again.content.decode()


def test_using_a_recovery_code_is_not_a_failure_of_the_authenticator_app(caseworker):
    """A recovery code is not a wrong authenticator code: it must not throttle the app
    (django-otp doubles the wait after each failure, and only a success resets it)."""
    codes = recovery_codes_issue(user=caseworker)
    password_only(caseworker).post(VERIFY, {"code": codes[0]})
    assert app_of(caseworker).throttling_failure_count == 0
    assert password_only(caseworker).post(VERIFY, {"code": code_for(caseworker)}).status_code == (
        302
    )


def test_a_new_set_of_recovery_codes_voids_the_old_one(caseworker):
    client = Client()
    sign_in(client, caseworker)
    old = codes_shown(client.get(RECOVERY))  # the first set, issued on the first visit
    assert len(old) == 10
    manage = client.get(RECOVERY)
    assert "You have 10 unused recovery codes" in manage.content.decode()
    assert codes_shown(manage) == []  # never shown again

    new = codes_shown(client.post(RECOVERY))
    assert len(new) == 10 and not set(new) & set(old)
    stored = set(
        StaticToken.objects.filter(device__user=caseworker).values_list("token", flat=True)
    )
    assert stored == set(new)
    assert password_only(caseworker).post(VERIFY, {"code": new[0]}).status_code == 302
    assert password_only(caseworker).post(VERIFY, {"code": old[1]}).status_code == 200
    assert audited(AuthAction.DEVICE_ENROLLED, caseworker) == [{"device": "recovery_code"}] * 2


# --- the API --------------------------------------------------------------------------------


def test_a_token_needs_the_second_factor(caseworker):
    before = AuthToken.objects.count()
    response = token_request("alice", PASSWORD)
    assert response.status_code == 401
    assert "second factor" in response.json()["detail"]
    assert "otp" in response.json()["detail"]
    assert "token" not in response.json()
    blank = token_request("alice", PASSWORD, "")
    assert blank.status_code == 400 and "otp" in blank.json()  # a malformed request
    assert AuthToken.objects.count() == before


def test_a_wrong_password_and_a_wrong_code_get_the_same_answer(caseworker):
    code = code_for(caseworker)
    wrong_password = token_request("alice", "not-the-password-1", code)
    assert wrong_password.status_code == 401
    assert wrong_password.json() == WRONG_CREDENTIALS
    assert AuthToken.objects.count() == 0

    # The code was not spent by the wrong password: it still makes a token.
    issued = token_request("alice", PASSWORD, code)
    assert issued.status_code == 201 and issued.json()["token"]
    assert AuthToken.objects.filter(user=caseworker).count() == 1
    assert {"device": "totp", "door": "api_token"} in audited(
        AuthAction.SECOND_FACTOR_PASSED, caseworker
    )

    wrong_code_ = token_request("alice", PASSWORD, wrong_code(app_of(caseworker)))
    assert wrong_code_.status_code == 401
    assert wrong_code_.json() == wrong_password.json()
    assert AuthToken.objects.filter(user=caseworker).count() == 1
    assert audited(AuthAction.SECOND_FACTOR_FAILED, caseworker) == [{"device": "code"}]


def test_a_recovery_code_makes_one_token_and_is_spent(caseworker):
    codes = recovery_codes_issue(user=caseworker)
    issued = token_request("alice", PASSWORD, codes[3])
    assert issued.status_code == 201
    assert not StaticToken.objects.filter(device__user=caseworker, token=codes[3]).exists()
    assert StaticToken.objects.filter(device__user=caseworker).count() == 9
    assert audited(AuthAction.RECOVERY_CODE_USED, caseworker) == [{"door": "api"}]
    again = token_request("alice", PASSWORD, codes[3])
    assert again.status_code == 401
    assert again.json() == WRONG_CREDENTIALS
    assert AuthToken.objects.filter(user=caseworker).count() == 1
    assert codes[3] not in all_audit_details()


def test_a_session_must_be_verified_to_use_the_api(caseworker):
    client = APIClient()
    client.post(LOGIN, {"username": "alice", "password": PASSWORD})
    refused = client.get(ME)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "Sign in with your second factor first."
    client.post(VERIFY, {"code": code_for(caseworker)})
    assert client.get(ME).status_code == 200
    assert client.get(ME).json()["username"] == "alice"


def test_wrong_codes_at_the_token_endpoint_lock_the_username(caseworker, settings):
    code = wrong_code(app_of(caseworker))
    for _ in range(settings.AXES_FAILURE_LIMIT):
        cache.clear()  # the endpoint's per-username throttle is not what is tested here
        response = token_request("alice", PASSWORD, code)
        # The last answer is django-axes' own lockout page (429, HTML).
        assert response.status_code in (401, 429)
        assert b'"token"' not in response.content
    assert len(audited(AuthAction.SECOND_FACTOR_FAILED, caseworker)) == settings.AXES_FAILURE_LIMIT
    locked = Client().post(LOGIN, {"username": "alice", "password": PASSWORD})
    assert locked.status_code == 429
    assert LOCKED in locked.content
    cache.clear()
    refused = token_request("alice", PASSWORD, code_for(caseworker))
    assert refused.status_code in (401, 429)
    assert AuthToken.objects.count() == 0


def test_the_schema_documents_the_otp_field_and_the_401(api, caseworker):
    schema = api(caseworker).get("/api/schema/?format=json").json()
    post = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert {"201", "401"} <= set(post["responses"])
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert "otp" in request["properties"]
    assert "authenticator" in request["properties"]["otp"]["description"]
    assert "otp" not in request.get("required", [])  # a missing otp is a 401, not a 400
    assert "otp" in post["description"]


def test_an_unverified_session_cannot_read_the_schema_or_the_docs(caseworker):
    client = APIClient()
    client.force_login(caseworker)
    assert client.get("/api/schema/?format=json").status_code in (401, 403)
    assert client.get("/api/docs/").status_code in (401, 403)
    verify_session(client, caseworker)
    assert client.get("/api/schema/?format=json").status_code == 200


# --- the admin ------------------------------------------------------------------------------


def test_the_admin_needs_a_verified_session(admin_user):
    give_authenticator(admin_user)
    client = Client()
    client.force_login(admin_user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=/admin/"
    client.post(VERIFY, {"code": code_for(admin_user)})
    index = client.get("/admin/")
    assert index.status_code == 200
    assert "Site administration" in index.content.decode()


def test_the_admin_site_itself_refuses_an_unverified_superuser(admin_user, settings):
    """Without the site-wide middleware the admin still refuses (django-otp's admin site),
    and its login sends the superuser to Concord's second step, not to a form of its own
    that django-axes and the audit trail would not see."""
    settings.MIDDLEWARE = [
        m
        for m in settings.MIDDLEWARE
        if m != "agencies.second_factor.SecondFactorRequiredMiddleware"
    ]
    give_authenticator(admin_user)
    client = Client()
    client.force_login(admin_user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"
    login_page = client.get(response["Location"])
    assert login_page.status_code == 302
    assert login_page["Location"] == "/accounts/two-factor/?next=/admin/"
    verify_session(client, admin_user)
    assert client.get("/admin/").status_code == 200


# --- passkeys -------------------------------------------------------------------------------


def test_a_passkey_is_never_a_first_factor(db):
    client = Client()
    begin = client.post("/webauthn/authentication/begin/", content_type="application/json")
    assert begin.status_code == 403
    assert begin.json()["code"] == "passwordless_login_disabled"
    assert "otp_webauthn_authentication_state" not in client.session
    complete = client.post(
        "/webauthn/authentication/complete/", data="{}", content_type="application/json"
    )
    assert complete.status_code == 403
    assert "_auth_user_id" not in client.session
