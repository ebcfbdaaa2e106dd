"""django-otp-webauthn's ceremonies, audited and counted as Concord's other second factors
are: a passkey verification that fails counts towards the username's lockout.
Served under ``/webauthn/`` in the library's own ``otp_webauthn`` namespace, which its
JavaScript reverses."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout
from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import exceptions
from django_otp_webauthn import views as webauthn

from audit.audit_actions import AuthAction
from audit.record import record

from . import second_factor


class LockedOut(exceptions.OTPWebAuthnApiError):
    status_code = 429
    default_code = "locked_out"
    default_detail = _("This account is locked for now.")


class RecheckNeeded(exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_code = "second_factor_recheck"
    default_detail = _("To add a passkey, confirm it is you again with one of your second factors.")


class RegistrationRules:
    """Adding a passkey when one has second factors already needs one of them in the last
    few minutes (as adding an app does): a session left open must not add a lasting way in."""

    request: Any

    def check_can_register(self) -> None:
        # Mixed into django_otp_webauthn's registration views, which ship no types: the
        # method extended is theirs.
        super().check_can_register()  # type: ignore[misc]
        user = self.request.user
        if second_factor.has_device(user) and not second_factor.recently_verified(self.request):
            raise RecheckNeeded()


class BeginRegistration(RegistrationRules, webauthn.BeginCredentialRegistrationView):
    pass


class VerifyWithPasskey(webauthn.CompleteCredentialAuthenticationView):
    """The second step with a passkey or security key: only for a user who has passed the
    password (passwordless sign-in is off), audited either way."""

    def check_can_authenticate(self) -> None:
        if not self.request.user.is_authenticated:
            raise exceptions.PasswordlessLoginDisabled()
        if second_factor.locked_out(self.request, self.request.user):
            logout(self.request)  # a session from before the lockout gets no more tries
            raise LockedOut()
        super().check_can_authenticate()

    def complete_auth(self, device: Any) -> Any:
        second_factor.session_upgrade(self.request)
        super().complete_auth(device)
        second_factor.failures_reset(device.user)
        record(
            AuthAction.SECOND_FACTOR_PASSED,
            actor=device.user,
            target=device.user,
            detail={"device": "webauthn"},
        )

    def handle_exception(self, exc: Exception) -> HttpResponse:
        user = self.request.user
        if (
            user.is_authenticated
            and isinstance(exc, exceptions.OTPWebAuthnApiError)
            and not isinstance(exc, LockedOut)
        ):
            second_factor.failed(self.request, user, device="webauthn")
        response: HttpResponse = super().handle_exception(exc)
        return response


class RegisterPasskey(RegistrationRules, webauthn.CompleteCredentialRegistrationView):
    """A new passkey or security key (the library lets only a user with no device yet, or
    one who has passed the second step, register one); audited, and the person told
    when it is not their first second factor. A first one passes the second step for
    this session (the library's choice), so the session gets a new key as at any pass."""

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        user = self.request.user
        first = not second_factor.has_device(user)
        if first and user.is_authenticated:
            second_factor.session_upgrade(self.request)
        response: HttpResponse = super().post(*args, **kwargs)
        if response.status_code == 200:
            record(
                AuthAction.DEVICE_ENROLLED, actor=user, target=user, detail={"device": "webauthn"}
            )
            if not first:
                second_factor.device_added_tell(user)
        return response


app_name = "otp_webauthn"
urlpatterns = [
    path(
        "registration/begin/",
        BeginRegistration.as_view(),
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        RegisterPasskey.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        webauthn.BeginCredentialAuthenticationView.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        VerifyWithPasskey.as_view(),
        name="credential-authentication-complete",
    ),
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
        name="js-i18n-catalog",
    ),
]
