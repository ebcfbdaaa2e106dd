"""Second factors for every user, at every door.

Built on django-otp, the maintained framework for it: its TOTP device (authenticator
apps), its static device (one-time recovery codes) and django-otp-webauthn's WebAuthn
credential (passkeys and security keys, phishing-resistant), which are all django-otp
devices, so one question — ``request.user.is_verified()``, set by django-otp's middleware
from the device recorded in the session — gates the pages, the admin and the API:

- the browser: a password, then a second factor (``views_second_factor``); a signed-in
  session that has not passed the second step can do nothing but pass it, or enrol when
  the user has no device yet (``SecondFactorRequiredMiddleware``);
- the API: a token is issued only with a valid code (``TokenRequestSerializer``), so a
  token is verified by construction; a session used on the API must be verified
  (``SecondFactorVerified``);
- the admin: django-otp's ``OTPAdminSite`` (config/urls.py).

Failed second-factor attempts count towards django-axes' lockout of the username, as
failed passwords do; every success, failure, enrolment, reset and use of a recovery code
is audited.
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import split_domain_port
from django.middleware.csrf import rotate_token
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.helpers import WebAuthnHelper as _WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission

from audit.audit_actions import AuthAction
from audit.record import record

API_PREFIX = "/api/"
TOKEN_PATH = "/api/v1/auth/token/"

# Paths a signed-in user who has not passed the second step may still reach: signing in
# and out, the second step and enrolment themselves, WebAuthn's ceremonies, password
# reset, static files and health checks. The API answers for itself (401).
OPEN_PATHS = (
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/two-factor/",
    "/accounts/password-reset/",
    "/accounts/reset/",
    "/webauthn/",
    "/static/",
    "/api/",
    "/livez",
    "/healthz",
)


def has_device(user: Any) -> bool:
    """Has the user a confirmed second factor of any kind?"""
    return bool(user_has_device(user, confirmed=True))


def is_verified(user: Any) -> bool:
    verified = getattr(user, "is_verified", None)
    return bool(verified()) if callable(verified) else False


class SecondFactorRequiredMiddleware:
    """A signed-in session that has not passed the second step is sent to pass it (or to
    enrol a first device), whatever page it asks for; see ``OPEN_PATHS``."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not is_verified(user)
            and request.path.startswith(API_PREFIX)
            and not request.path.startswith(TOKEN_PATH)
            and "HTTP_AUTHORIZATION" not in request.META
        ):
            # The API answers for itself (SecondFactorVerified); this is the second lock,
            # so that no view's own permission_classes can forget the second factor.
            return JsonResponse({"detail": str(SecondFactorVerified.message)}, status=401)
        if (
            user.is_authenticated
            and not is_verified(user)
            and not request.path.startswith(OPEN_PATHS)
        ):
            step = "two_factor_verify" if has_device(user) else "two_factor_setup"
            response: HttpResponse = redirect_to_login(request.get_full_path(), reverse(step))
            return response
        return self.get_response(request)


class SecondFactorVerified(BasePermission):
    """The API's half: a request signed in by a session must have passed the second step
    (a token is only ever issued with a valid code)."""

    message = _("Sign in with your second factor first.")

    def has_permission(self, request: Any, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return True  # IsAuthenticated answers for anonymous callers
        from knox.models import AuthToken

        if isinstance(request.auth, AuthToken):
            return True
        if not is_verified(request.user):
            raise NotAuthenticated(self.message)
        return True


# --- WebAuthn's relying party: the site itself ------------------------------------------


def relying_party_id(request: HttpRequest) -> str:
    """The host name the browser sees (no port): passkeys are bound to it."""
    domain, _port = split_domain_port(request.get_host())
    return domain


class WebAuthnHelper(_WebAuthnHelper):
    """Origins a passkey ceremony may come from: ``https://`` on every allowed host; in
    demo and tests also the request's own origin (``http://localhost:…``, which browsers
    treat as secure)."""

    def get_allowed_origins(self) -> list[str]:
        origins = [f"https://{host}" for host in settings.ALLOWED_HOSTS if host != "*"]
        if not settings.IS_PRODUCTION:
            origins.append(f"{self.request.scheme}://{self.request.get_host()}")
        return origins


# --- Verifying ----------------------------------------------------------------------------


def code_devices(user: Any) -> list[Any]:
    """The user's devices that take a typed code, authenticator apps then recovery codes,
    locked for the transaction the caller holds."""
    return [
        *TOTPDevice.objects.devices_for_user(user, confirmed=True).select_for_update(),
        *StaticDevice.objects.devices_for_user(user, confirmed=True).select_for_update(),
    ]


def match_code(user: Any, code: str) -> Any | None:
    """The device ``code`` is valid for (an authenticator's current code, or an unused
    recovery code, which is then spent), or None. django-otp throttles each device
    after failures (exponential back-off)."""
    code = "".join(str(code or "").split())
    if not code:
        return None
    # An authenticator's code is all digits, a recovery code never is (xxxx-xxxx-xxxx):
    # each device is asked only for its own kind, so a recovery code is not a failed
    # authenticator code (django-otp would throttle the app for it), nor the reverse.
    # The user's devices are locked while a code is checked and spent, so two requests
    # with one code (a recovery code twice, or a relayed TOTP code at the page and the
    # token endpoint at once) cannot both pass.
    with transaction.atomic():
        for device in code_devices(user):
            if isinstance(device, TOTPDevice) != code.isdigit():
                continue
            if device.verify_token(code):
                return device
    return None


def locked_out(request: Any, user: Any) -> bool:
    """Is ``user``'s username locked out by django-axes now? Checked before a second
    factor is accepted: a session opened before the lockout gets no further guesses."""
    from axes.handlers.proxy import AxesProxyHandler

    django_request = getattr(request, "_request", request)
    credentials = {"username": user.get_username()}
    return bool(AxesProxyHandler.is_locked(django_request, credentials))


def failures_reset(user: Any) -> None:
    """Both factors passed: the username's failed attempts start again from zero. The
    password alone does not reset them (``AXES_RESET_ON_SUCCESS`` is off), or anyone with
    the password could sign in again for a fresh allowance of code guesses."""
    from axes.utils import reset

    reset(username=user.get_username())


# When this session last passed the second step (a Unix time): changing one's second
# factors asks for it again after ``SECOND_FACTOR_RECHECK_MINUTES``.
VERIFIED_AT = "concord_second_factor_at"


def session_upgrade(request: HttpRequest) -> None:
    """The session passes the second step: a new session key and CSRF token (an id seen
    before the second step is worth nothing after it) and the time, for re-checks."""
    request.session.cycle_key()
    rotate_token(request)
    request.session[VERIFIED_AT] = int(time.time())


def recently_verified(request: HttpRequest) -> bool:
    """Did this session pass the second step in the last few minutes? Adding or removing
    a second factor, or new recovery codes, need it: a session left open on a shared
    computer must not be able to give itself lasting access."""
    at = request.session.get(VERIFIED_AT)
    limit = settings.SECOND_FACTOR_RECHECK_MINUTES * 60
    return isinstance(at, int) and 0 <= time.time() - at < limit


def tell_account_holder(user: Any, *, kind: str, message: str) -> None:
    """Tell the person (in the app and by email) that their sign-in changed, so that a
    change they did not make does not go unnoticed (ASVS 6.3.7). No personal data."""
    # The one place the lowest app reaches up: through the outbox (imported here, as
    # notifications imports agencies).
    from notifications.services import notify

    with transaction.atomic():
        notify(
            recipients=[user],
            kind=kind,
            target=user,
            message=message,
            url=reverse("security"),
            dedup_key=f"{kind}:{user.pk}:{secrets.token_hex(8)}",
        )


def verified(request: HttpRequest, user: Any, device: Any) -> None:
    """Mark this session as having passed the second step with ``device``; audited (and a
    recovery code's use is audited on its own, with how many are left)."""
    session_upgrade(request)
    otp_login(request, device)
    failures_reset(user)
    record(
        AuthAction.SECOND_FACTOR_PASSED,
        actor=user,
        target=user,
        detail={"device": device_kind(device)},
    )
    if isinstance(device, StaticDevice):
        record(
            AuthAction.RECOVERY_CODE_USED,
            actor=user,
            target=user,
            detail={"left": device.token_set.count()},
        )


def failed(request: HttpRequest, user: Any, *, device: str) -> bool:
    """A wrong second factor: audited, and counted by django-axes against the username as
    a failed password is. Returns True when the username is now locked out (the caller
    signs the session out and says so)."""
    from axes.handlers.proxy import AxesProxyHandler

    record(AuthAction.SECOND_FACTOR_FAILED, actor=user, target=user, detail={"device": device})
    credentials = {"username": user.get_username()}
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    locked = bool(AxesProxyHandler.is_locked(request, credentials))
    if locked:
        logout(request)
    return locked


def record_failed_code(request: Any, user: Any) -> None:
    """A wrong code at the token endpoint: audited and counted by django-axes (a request
    has no session to sign out there)."""
    record(AuthAction.SECOND_FACTOR_FAILED, actor=user, target=user, detail={"device": "code"})
    django_request = getattr(request, "_request", request)
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=django_request
    )


def device_kind(device: Any) -> str:
    if isinstance(device, TOTPDevice):
        return "totp"
    if isinstance(device, StaticDevice):
        return "recovery_code"
    if isinstance(device, WebAuthnCredential):
        return "webauthn"
    return type(device).__name__.lower()


def device_labels(user: Any) -> list[str]:
    """What kinds of second factor ``user`` has set up, for their agency admin's page."""
    labels = []
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        labels.append(_("authenticator app"))
    if WebAuthnCredential.objects.filter(user=user, confirmed=True).exists():
        labels.append(_("passkey or security key"))
    device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        left = device.token_set.count()
        labels.append(
            ngettext("%(n)d recovery code left", "%(n)d recovery codes left", left) % {"n": left}
        )
    return labels


# --- Devices with a known key (the demo, synthetic users, tests) ------------------------

DEMO_DEVICE_NAME = "Demo authenticator"


def totp_device_with_key(
    user: Any, *, key_hex: str, name: str = "Authenticator app", tolerance: int = 1
) -> TOTPDevice:
    """A confirmed authenticator for ``user`` whose secret is ``key_hex`` (the demo's
    shared, printed key; the benchmark's and the tests' known keys)."""
    device, _created = TOTPDevice.objects.update_or_create(
        user=user,
        name=name,
        defaults={"key": key_hex, "confirmed": True, "tolerance": tolerance},
    )
    return device


def demo_key_hex() -> str:
    """The demo's shared authenticator key (``CONCORD_DEMO_TOTP_SECRET``), as django-otp
    stores keys (hex). Refused in production, where settings leave it empty."""
    if not settings.DEMO_TOTP_SECRET:
        raise ImproperlyConfigured(
            "The demo's authenticator secret exists only with CONCORD_ENV=demo or test."
        )
    secret = settings.DEMO_TOTP_SECRET
    return base64.b32decode(secret + "=" * (-len(secret) % 8)).hex()


def give_demo_authenticator(user: Any) -> TOTPDevice:
    """The demo's (and the synthetic partnership's) users: an authenticator with the
    printed, shared secret, so anyone trying the demo can add it to their app."""
    return totp_device_with_key(user, key_hex=demo_key_hex(), name=DEMO_DEVICE_NAME)


def current_code(device: TOTPDevice) -> str:
    """The code ``device`` accepts now, as the person's app would show it: the current
    time step, or the next one when the current was used already (a code is accepted
    once). For the demo's ``demo_otp`` command and the tests."""
    import time

    from django_otp.oath import TOTP, hotp

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    step = max(totp.t(), device.last_t + 1)
    return f"{hotp(device.bin_key, step, digits=device.digits):0{device.digits}d}"


# --- Enrolling ----------------------------------------------------------------------------


def recovery_codes_issue(*, user: Any) -> list[str]:
    """A fresh set of ``RECOVERY_CODES`` one-time codes (any earlier set is void), shown
    to the user once. Audited (never the codes)."""
    codes = [
        "-".join(secrets.token_hex(2) for _ in range(3)) for _ in range(settings.RECOVERY_CODES)
    ]
    with transaction.atomic():
        device, created = StaticDevice.objects.get_or_create(
            user=user, name="Recovery codes", defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
        record(
            AuthAction.DEVICE_ENROLLED, actor=user, target=user, detail={"device": "recovery_code"}
        )
        if not created:
            tell_account_holder(
                user,
                kind="account.recovery_codes_replaced",
                message=_("New recovery codes were made for your account; the old ones are void."),
            )
    return codes


def totp_enrol_confirm(*, request: HttpRequest, user: Any, device: TOTPDevice, code: str) -> bool:
    """Confirm a new authenticator with its first code; the session then counts as having
    passed the second step with it. Audited."""
    if device.user_id != user.pk or device.confirmed or not device.verify_token(code):
        return False
    first = not has_device(user)
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record(AuthAction.DEVICE_ENROLLED, actor=user, target=user, detail={"device": "totp"})
        if not first:
            device_added_tell(user)
    if not is_verified(user):
        session_upgrade(request)
        otp_login(request, device)
    failures_reset(user)
    return True


def password_changed_tell(user: Any) -> None:
    tell_account_holder(
        user,
        kind="account.password_changed",
        message=_(
            "The password of your Concord account was changed, and your other sessions "
            "ended. If it was not you, tell your agency administrator now."
        ),
    )


def device_added_tell(user: Any) -> None:
    tell_account_holder(
        user,
        kind="account.device_added",
        message=_(
            "A second factor was added to your account. If it was not you, tell your agency "
            "administrator now."
        ),
    )


def devices_of(user: Any) -> list[Any]:
    """The user's confirmed authenticator apps and passkeys, oldest first (their own
    Security page); recovery codes are shown apart."""
    return [
        *TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk"),
        *WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("pk"),
    ]


def device_remove(*, user: Any, persistent_id: str) -> Any:
    """A user removes one of their own authenticator apps or passkeys (an old phone, a
    lost key). Not the last one: they would be left with recovery codes alone. Audited.
    Raises ``Device.DoesNotExist`` for a device that is not theirs (the caller's 404)."""
    devices = {device.persistent_id: device for device in devices_of(user)}
    device = devices.get(persistent_id)
    if device is None:
        raise TOTPDevice.DoesNotExist
    if len(devices) == 1:
        raise ValidationError(
            _(
                "This is your only authenticator app or passkey. Add another before you "
                "remove it, or ask your agency administrator to reset your second factors."
            )
        )
    with transaction.atomic():
        kind = device_kind(device)
        device.delete()
        record(AuthAction.DEVICE_REMOVED, actor=user, target=user, detail={"device": kind})
        tell_account_holder(
            user,
            kind="account.device_removed",
            message=_(
                "A second factor was removed from your account. If it was not you, tell your "
                "agency administrator now."
            ),
        )
    return device


def second_factors_reset(*, actor: Any, user: Any) -> int:
    """Remove every second factor of ``user`` (an agency admin for a member of their
    agency, checked by the caller's service; a superuser in the admin): they enrol again
    at their next sign-in. Their sessions and tokens end, the member is told (no personal
    data), and it is audited. Returns how many devices were removed."""
    # The one place the lowest app reaches up: the member must hear of it in the app and
    # by email, through the outbox (imported here, as notifications imports agencies).
    from notifications.services import notify

    from .services import sign_ins_end

    with transaction.atomic():
        removed = 0
        for model in (TOTPDevice, StaticDevice, WebAuthnCredential):
            _total, per_model = model.objects.filter(user=user).delete()
            removed += per_model.get(model._meta.label, 0)  # devices, not their codes
        record(
            AuthAction.DEVICES_RESET,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            target=user,
            detail={"removed": removed},
        )
        sign_ins_end(actor=actor, user=user, reason="second_factors_reset")
        notify(
            recipients=[user],
            kind="account.second_factors_reset",
            target=user,
            message=_(
                "Your second factors were reset. At your next sign-in you will set up a new "
                "one; if you did not ask for this, tell your agency administrator."
            ),
            url=reverse("login"),
            dedup_key=f"second-factors-reset:{user.pk}:{user.credentials_epoch}",
        )
    return removed
