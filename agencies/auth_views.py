"""Django's password views, with what trust demands when a password changes:
every other session and every API token of the user ends, and the trail records it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpResponse

from audit.audit_actions import AuthAction
from audit.record import record

from . import second_factor, services


class PasswordChangeView(auth_views.PasswordChangeView):
    """A signed-in user changes their password: this session goes on, every other one and
    every API token ends."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        record(AuthAction.PASSWORD_CHANGED, actor=form.user, target=form.user)
        services.sign_ins_end(
            actor=form.user, user=form.user, reason="password_changed", request=self.request
        )
        second_factor.password_changed_tell(form.user)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """A reset is asked for. The trail records that one was asked, never for which
    address (the answer to the visitor is the same whether an account matched)."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        record(AuthAction.PASSWORD_RESET_REQUESTED, actor=None)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """A reset link sets a new password: every session and API token of the user ends
    (whoever knew the old password is out)."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        record(AuthAction.PASSWORD_RESET_COMPLETED, actor=None, target=form.user)
        services.sign_ins_end(actor=None, user=form.user, reason="password_reset")
        second_factor.password_changed_tell(form.user)
        return response
