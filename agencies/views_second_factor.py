"""The second step of signing in, and enrolling second factors.

``two_factor_verify``: after the password, a code from an authenticator app or a
recovery code, or a passkey / security key (WebAuthn, through ``webauthn_views``).
``two_factor_setup``: a user with no second factor enrols one before anything else (an
authenticator app, or a passkey), and receives recovery codes; a verified user adds more.
"""

from __future__ import annotations

import base64
from typing import Any

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from . import second_factor

PENDING_TOTP = "concord_pending_totp_device"


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        help_text=gettext_lazy(
            "The 6-digit code your authenticator app shows now, or one of your recovery codes."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"}
        ),
    )


class EnrolCodeForm(CodeForm):
    code = forms.CharField(
        label=gettext_lazy("Code from the app"),
        max_length=8,
        help_text=gettext_lazy("The 6-digit code the app shows once it has added Concord."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)  # a URL name ("home") as a path


@never_cache
@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    again = bool(request.POST.get("again") or request.GET.get("again"))
    if second_factor.is_verified(user) and not again:
        return redirect(_next(request))
    if not second_factor.has_device(user):
        return redirect(_with_next("two_factor_setup", _next(request)))
    if request.method == "POST" and second_factor.locked_out(request, user):
        logout(request)
        return render(request, "errors/locked_out.html", status=429)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        device = second_factor.match_code(user, form.cleaned_data["code"])
        if device is not None:
            second_factor.verified(request, user, device)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(
                    request,
                    _("You used a recovery code; %(n)d left. Set up new ones under Security.")
                    % {"n": left},
                )
            return redirect(_next(request))
        if second_factor.failed(request, user, device="code"):
            return render(request, "errors/locked_out.html", status=429)
        form.add_error(
            "code",
            _("That code is not right, or was used already. Enter the code the app shows now."),
        )
    context = {
        "form": form,
        "next": _next(request),
        "again": again,
        "has_passkey": WebAuthnCredential.objects.filter(user=user, confirmed=True).exists(),
        "has_app": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
    }
    return render(request, "registration/two_factor_verify.html", context)


def _url(name: str) -> str:
    return reverse(name)


def _with_next(name: str, target: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': target})}"


def _recheck(request: HttpRequest, here: str) -> HttpResponse | None:
    """Changing one's second factors asks for one again unless this session passed the
    second step a few minutes ago: the answer that sends the user to do so, or None."""
    if second_factor.recently_verified(request):
        return None
    messages.info(
        request, _("To change your second factors, confirm it is you again with one of them.")
    )
    return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': here, 'again': '1'})}")


def _pending_totp(request: HttpRequest) -> TOTPDevice:
    """The authenticator being added: the same key across reloads of the page (kept in
    this session, unconfirmed, until its first code confirms it)."""
    user = request.user
    pending = (
        TOTPDevice.objects.filter(
            user=user, confirmed=False, pk=request.session.get(PENDING_TOTP)
        ).first()
        if request.session.get(PENDING_TOTP)
        else None
    )
    if pending is None:
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        pending = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        request.session[PENDING_TOTP] = pending.pk
    return pending


@never_cache
@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    enrolled = second_factor.has_device(user)
    if enrolled and not second_factor.is_verified(user):
        # Adding a device needs the second factor first (else a stolen password could
        # add the thief's authenticator).
        return redirect(_with_next("two_factor_verify", _url("two_factor_setup")))
    if enrolled and (recheck := _recheck(request, _url("two_factor_setup"))):
        return recheck
    device = _pending_totp(request)
    form = EnrolCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if second_factor.totp_enrol_confirm(
            request=request, user=user, device=device, code=form.cleaned_data["code"]
        ):
            request.session.pop(PENDING_TOTP, None)
            if not StaticDevice.objects.filter(user=user).exists():
                return _show_codes(request, second_factor.recovery_codes_issue(user=user))
            messages.success(request, _("Your authenticator app is set up."))
            return redirect(_next(request))
        form.add_error(
            "code",
            _("That code does not match. Check the app added Concord, then enter its code."),
        )
    key = base64.b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "next": _next(request),
        "enrolled": enrolled,
        "qr_svg": segno.make(device.config_url, error="m").svg_inline(
            scale=4, title=_("QR code to add Concord to an authenticator app")
        ),
        "key": " ".join(key[i : i + 4] for i in range(0, len(key), 4)),
    }
    return render(request, "registration/two_factor_setup.html", context)


def _show_codes(request: HttpRequest, codes: list[str]) -> HttpResponse:
    return render(
        request,
        "registration/recovery_codes.html",
        {"codes": codes, "next": _next(request)},
    )


@never_cache
@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """After a first passkey (its ceremony marks the session verified): the recovery
    codes, issued once; later, a verified user replaces theirs (POST)."""
    user = request.user
    if not second_factor.is_verified(user):
        return redirect(_with_next("two_factor_verify", _url("two_factor_recovery_codes")))
    first = not StaticDevice.objects.filter(user=user).exists()
    if request.method == "POST" or first:
        if recheck := _recheck(request, _url("two_factor_recovery_codes")):
            return recheck
        return _show_codes(request, second_factor.recovery_codes_issue(user=user))
    device = StaticDevice.objects.filter(user=user).first()
    context: dict[str, Any] = {"left": device.token_set.count() if device else 0}
    return render(request, "registration/recovery_codes_manage.html", context)


@never_cache
@login_required
def security(request: HttpRequest) -> HttpResponse:
    """The user's own second factors: what they have, add another, replace their recovery
    codes, remove an old phone or key; and their password."""
    user = request.user
    recovery = StaticDevice.objects.filter(user=user, confirmed=True).first()
    context = {
        "devices": [
            {
                "id": device.persistent_id,
                "kind": second_factor.device_kind(device),
                "name": device.name,
                "added": getattr(device, "created_at", None),
                "last_used": getattr(device, "last_used_at", None),
            }
            for device in second_factor.devices_of(user)
        ],
        "recovery_left": recovery.token_set.count() if recovery else None,
    }
    return render(request, "registration/security.html", context)


@never_cache
@login_required
@require_POST
def security_device_remove(request: HttpRequest) -> HttpResponse:
    if recheck := _recheck(request, _url("security")):
        return recheck
    try:
        device = second_factor.device_remove(
            user=request.user, persistent_id=request.POST.get("device", "")
        )
    except ObjectDoesNotExist:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("“%(name)s” was removed.") % {"name": device.name})
    return redirect("security")
