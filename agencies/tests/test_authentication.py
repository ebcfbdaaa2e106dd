"""Signing in: pages, API tokens (hashed, expiring), and the audit of each attempt."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from agencies.tests.factories import PASSWORD, code_for, sign_in, verify_session
from audit.audit_actions import AuthAction
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_login_and_logout_pages_are_audited(client, caseworker):
    assert client.get("/").status_code == 302
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    # The password alone opens nothing: every page sends the user to the second step.
    assert client.get("/")["Location"] == "/accounts/two-factor/?next=/"
    assert client.post("/accounts/two-factor/", {"code": code_for(caseworker)}).status_code == 302
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302

    login, logout = AuditEvent.objects.filter(
        action__in=[AuthAction.LOGIN, AuthAction.LOGOUT]
    ).order_by("id")
    assert (login.action, login.actor, login.actor_agency) == (
        AuthAction.LOGIN,
        caseworker,
        caseworker.membership.agency,
    )
    assert login.request_id and login.ip_address == "127.0.0.1"
    assert logout.action == AuthAction.LOGOUT


def test_failed_login_shows_an_error_and_is_audited_without_the_password(client, caseworker):
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "wrong-password-123"}
    )
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    failed = AuditEvent.objects.get(action=AuthAction.LOGIN_FAILED)
    assert failed.detail == {"username": "alice"}
    assert "wrong-password" not in str(failed.detail)


def test_api_token_lifecycle(caseworker):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "alice", "password": PASSWORD, "otp": code_for(caseworker)},
        format="json",
    )
    assert response.status_code == 201
    token = response.json()["token"]
    assert response.json()["expiry"]

    stored = AuthToken.objects.get(user=caseworker)
    assert token not in (stored.digest, stored.token_key)  # only a hash and a prefix are kept
    assert stored.expiry > timezone.now() + timedelta(hours=9)

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    assert me.json()["agency"]["name"] == "Harbour Trust"
    assert me.json()["role"] == "caseworker"

    assert client.delete("/api/v1/auth/token/").status_code == 204
    assert client.get("/api/v1/me/").status_code == 401
    assert AuditEvent.objects.filter(action=AuthAction.TOKEN_CREATED).count() == 1
    assert AuditEvent.objects.filter(action=AuthAction.TOKEN_REVOKED).count() == 1


def test_expired_token_is_refused(caseworker):
    instance, token = AuthToken.objects.create(caseworker, expiry=timedelta(hours=1))
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/me/").status_code == 401


def test_bad_token_requests_are_4xx_not_500(caseworker):
    client = APIClient()
    assert client.post("/api/v1/auth/token/", {}, format="json").status_code == 400
    wrong = client.post(
        "/api/v1/auth/token/",
        {"username": "alice", "password": "nope", "otp": "123456"},
        format="json",
    )
    assert wrong.status_code == 401
    assert AuditEvent.objects.filter(action=AuthAction.LOGIN_FAILED).count() == 1


def test_password_reset_sends_a_link_without_saying_whether_the_account_exists(
    client, caseworker, mailoutbox
):
    for email in (caseworker.email, "nobody@example.org"):
        response = client.post("/accounts/password-reset/", {"email": email})
        assert (
            response.status_code == 302 and response["Location"] == "/accounts/password-reset/done/"
        )
    assert len(mailoutbox) == 1
    assert "/accounts/reset/" in mailoutbox[0].body


def test_session_ends_after_the_absolute_lifetime(client, caseworker, settings):
    from agencies.signals import SESSION_AUTH_AT

    client.force_login(caseworker)
    verify_session(client, caseworker)
    assert client.get("/").status_code == 200
    session = client.session
    session[SESSION_AUTH_AT] -= settings.SESSION_MAX_HOURS * 3600 + 1
    session.save()
    assert client.get("/").status_code == 302


def test_five_failed_logins_lock_the_username_in_both_doors(client, caseworker, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong-password-123"})

    locked = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert locked.status_code == 429
    assert b"This account is locked for now" in locked.content
    token = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "alice", "password": PASSWORD, "otp": code_for(caseworker)},
        format="json",
    )
    assert token.status_code in (401, 429)
    assert "token" not in token.json()
    assert (
        AuditEvent.objects.filter(action=AuthAction.LOGIN_FAILED).count()
        >= settings.AXES_FAILURE_LIMIT
    )


def test_a_successful_sign_in_with_both_factors_resets_the_count(client, caseworker, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong-password-123"})
    assert sign_in(client, caseworker).status_code == 302  # password, then the code
    client.post("/accounts/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong-password-123"})
    assert (
        client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code
        == 302
    )
