"""django-otp-webauthn's ceremonies, audited and counted as Concord's other second factors
are (issue 15): a passkey verification that fails counts towards the username's lockout.
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

from audit import actions
from audit.record import record

from . import second_factor


class LockedOut(exceptions.OTPWebAuthnApiError):
    status_code = 429
    default_code = "locked_out"
    default_detail = _("This account is locked for now.")


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
        super().complete_auth(device)
        second_factor.failures_reset(device.user)
        record(
            actions.SECOND_FACTOR_PASSED,
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


class RegisterPasskey(webauthn.CompleteCredentialRegistrationView):
    """A new passkey or security key (the library lets only a user with no device yet, or
    one who has passed the second step, register one); audited."""

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().post(*args, **kwargs)
        if response.status_code == 200:
            user = self.request.user
            record(actions.DEVICE_ENROLLED, actor=user, target=user, detail={"device": "webauthn"})
        return response


app_name = "otp_webauthn"
urlpatterns = [
    path(
        "registration/begin/",
        webauthn.BeginCredentialRegistrationView.as_view(),
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
