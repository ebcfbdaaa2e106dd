"""Sessions and API tokens end when trust ends: a password changed or
reset, a deactivation (a reactivation does not revive them), a role change — at both
doors, and each end is audited."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from agencies import services
from agencies.models import Role, User
from agencies.tests.factories import PASSWORD, sign_in
from audit.audit_actions import AuthAction
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-brand-new-passphrase-42"


def signed_in(user: User, password: str = PASSWORD) -> Client:
    """A browser that signed in through the login page (a real session)."""
    client = Client()
    assert sign_in(client, user, password).status_code == 302
    assert client.get("/").status_code == 200
    return client


def token_for(user: User) -> APIClient:
    _instance, token = AuthToken.objects.create(user)  # as issued after both factors
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/me/").status_code == 200
    return client


def is_signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def test_changing_ones_password_ends_every_other_session_and_every_token(caseworker):
    here, elsewhere, api = signed_in(caseworker), signed_in(caseworker), token_for(caseworker)
    response = here.post(
        "/accounts/password-change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert is_signed_in(here)  # the session that changed it goes on
    assert not is_signed_in(elsewhere)
    assert api.get("/api/v1/me/").status_code == 401
    assert not AuthToken.objects.filter(user=caseworker).exists()
    assert AuditEvent.objects.filter(action=AuthAction.PASSWORD_CHANGED, actor=caseworker).exists()
    ended = AuditEvent.objects.get(action=AuthAction.SIGN_INS_ENDED)
    assert ended.detail == {"reason": "password_changed", "tokens_deleted": 1}


def test_a_password_reset_ends_every_session_and_token(caseworker, mailoutbox):
    browser, api = signed_in(caseworker), token_for(caseworker)
    Client().post("/accounts/password-reset/", {"email": caseworker.email})
    link = re.search(r"/accounts/reset/[^/]+/[^/\s]+/", mailoutbox[0].body).group(0)
    visitor = Client()
    form = visitor.get(link, follow=True)
    assert form.status_code == 200
    done = visitor.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    assert not is_signed_in(browser)
    assert api.get("/api/v1/me/").status_code == 401
    actions_seen = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        AuthAction.PASSWORD_RESET_REQUESTED,
        AuthAction.PASSWORD_RESET_COMPLETED,
        AuthAction.SIGN_INS_ENDED,
    } <= actions_seen
    requested = AuditEvent.objects.get(action=AuthAction.PASSWORD_RESET_REQUESTED)
    assert caseworker.email not in str(requested.detail)


def test_a_deactivated_members_old_session_stays_dead_after_reactivation(caseworker, agency_admin):
    browser, api = signed_in(caseworker), token_for(caseworker)
    services.membership_deactivate(actor=agency_admin, membership=caseworker.membership)
    assert not is_signed_in(browser)
    assert api.get("/api/v1/me/").status_code == 401
    services.membership_reactivate(actor=agency_admin, membership=caseworker.membership)
    # Before: the same browser was signed in again, as if nothing had happened.
    assert not is_signed_in(browser)
    assert is_signed_in(signed_in(caseworker))  # a fresh sign-in works


def test_a_role_change_ends_sessions_and_tokens(caseworker, agency_admin):
    browser, api = signed_in(caseworker), token_for(caseworker)
    services.membership_change_role(
        actor=agency_admin, membership=caseworker.membership, role=Role.CASE_MANAGER
    )
    assert not is_signed_in(browser)
    assert api.get("/api/v1/me/").status_code == 401
    assert AuditEvent.objects.filter(
        action=AuthAction.SIGN_INS_ENDED, detail__reason="role_changed"
    ).exists()


def test_another_users_sessions_are_untouched(caseworker, case_manager, agency_admin):
    other = signed_in(case_manager)
    services.membership_deactivate(actor=agency_admin, membership=caseworker.membership)
    assert is_signed_in(other)
