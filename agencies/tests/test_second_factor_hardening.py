"""What an outside tester tried against the second factor, kept as tests: no
API view without it, one code never passes twice (even at once), a new session key at
the second step, a fresh second factor to change one's second factors and a notice of
every such change, one sign-in door for the admin, and superusers managed by superusers.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.test import APIClient
from rest_framework.views import APIView

from agencies import second_factor, services
from agencies.api.views import TokenView
from agencies.models import Role
from agencies.second_factor import VERIFIED_AT, SecondFactorVerified
from agencies.tests.factories import PASSWORD, TEST_TOTP_KEY, code_for, member
from notifications.models import NotificationEvent

TOKEN = "/api/v1/auth/token/"


def password_only(user: Any) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


# --- every API view needs the second factor -------------------------------------------------


def _views(patterns: list[Any], prefix: str = "") -> Any:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def test_every_api_view_demands_the_second_factor() -> None:
    missing = []
    for route, callback in _views(get_resolver().url_patterns):
        cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if cls is None or not issubclass(cls, APIView) or cls is TokenView:
            continue
        initkwargs = getattr(callback, "initkwargs", {})
        permissions = initkwargs.get("permission_classes", cls.permission_classes)
        if SecondFactorVerified not in permissions:
            missing.append(route)
    assert not missing, f"API views that forget the second factor: {missing}"


@pytest.mark.django_db
def test_a_password_alone_reads_no_dashboard(case_manager, manager, harbour, partnership):
    """They overrode permission_classes, and answered a password-only session."""
    client = password_only(case_manager)
    response = client.get(f"/api/v1/dashboards/agency/{harbour.pk}/")
    assert response.status_code == 401
    assert response.json() == {"detail": str(SecondFactorVerified.message)}
    other = password_only(manager)
    assert other.get(f"/api/v1/dashboards/partnership/{partnership.pk}/").status_code == 401


# --- one code, once, even at once -----------------------------------------------------------


def _at_once(first: Callable[[], int], second: Callable[[], int]) -> list[int]:
    statuses = [0, 0]

    def run(i: int, call: Callable[[], int]) -> None:
        try:
            statuses[i] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return statuses


def _meet_at(monkeypatch: Any, cls: type, name: str) -> None:
    """Both requests wait for each other at ``cls.name`` (after reading the code, before
    spending it): the interleaving a real race hits. With the devices locked, the second
    never gets there, and the first goes on when the wait times out."""
    barrier = threading.Barrier(2, timeout=3)
    original = getattr(cls, name)

    def meet(self: Any, *args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, meet)


@pytest.mark.django_db(transaction=True)
def test_one_recovery_code_makes_one_token_even_at_once(caseworker, monkeypatch):
    cache.clear()
    code = second_factor.recovery_codes_issue(user=caseworker)[0]
    _meet_at(monkeypatch, StaticToken, "delete")
    body = {"username": caseworker.username, "password": PASSWORD, "otp": code}
    statuses = _at_once(
        lambda: APIClient().post(TOKEN, body, format="json").status_code,
        lambda: APIClient().post(TOKEN, body, format="json").status_code,
    )
    assert sorted(statuses) == [201, 401]
    assert AuthToken.objects.filter(user=caseworker).count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_app_code_passes_one_door_even_at_once(caseworker, monkeypatch):
    cache.clear()
    browser = password_only(caseworker)
    code = code_for(caseworker)
    _meet_at(monkeypatch, TOTPDevice, "throttle_reset")
    body = {"username": caseworker.username, "password": PASSWORD, "otp": code}
    page, token = _at_once(
        lambda: browser.post("/accounts/two-factor/", {"code": code}).status_code,
        lambda: APIClient().post(TOKEN, body, format="json").status_code,
    )
    passed_page = browser.get("/api/v1/me/").status_code == 200
    passed_token = token == 201
    assert passed_page != passed_token, (page, token)


# --- the session key ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_session_gets_a_new_key_at_the_second_step(caseworker):
    browser = password_only(caseworker)
    before = browser.cookies["sessionid"].value
    assert browser.post("/accounts/two-factor/", {"code": code_for(caseworker)}).status_code == 302
    assert browser.cookies["sessionid"].value != before
    stolen = Client()
    stolen.cookies["sessionid"] = before  # an id seen before the second step
    assert stolen.get("/api/v1/me/").status_code in (401, 403)
    assert stolen.get("/")["Location"].startswith("/accounts/login/")


# --- changing one's second factors ----------------------------------------------------------


def _verified_long_ago(client: Client) -> None:
    session = client.session
    session[VERIFIED_AT] = int(time.time()) - 3600
    session.save()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("post", "/accounts/two-factor/recovery-codes/", {}),
        ("get", "/accounts/two-factor/setup/", {}),
        ("post", "/accounts/security/remove/", {"device": "otp_totp.totpdevice/1"}),
    ],
)
def test_changing_second_factors_asks_for_one_again_after_a_while(
    login, caseworker, method, path, data
):
    second_factor.recovery_codes_issue(user=caseworker)
    client = login(caseworker)
    _verified_long_ago(client)
    response = getattr(client, method)(path, data)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/?")
    assert "again=1" in response["Location"]
    again = client.get(response["Location"])
    assert again.status_code == 200  # the verify page, though the session is verified
    assert b"use one of them once more" in again.content
    passed = client.post(
        "/accounts/two-factor/", {"code": code_for(caseworker), "again": "1", "next": path}
    )
    assert passed["Location"] == path
    assert second_factor.recently_verified(_request_for(client))


def _request_for(client: Client) -> Any:
    class Request:
        session = client.session

    return Request()


@pytest.mark.django_db
def test_adding_a_passkey_asks_for_a_recent_second_factor(login, caseworker):
    client = login(caseworker)
    _verified_long_ago(client)
    begin = client.post("/webauthn/registration/begin/")
    assert begin.status_code == 403
    assert begin.json()["code"] == "second_factor_recheck"


@pytest.mark.django_db
def test_the_person_is_told_of_every_change_to_their_sign_in(login, caseworker):
    client = login(caseworker)
    second_factor.recovery_codes_issue(user=caseworker)  # a first set: no notice
    assert client.post("/accounts/two-factor/recovery-codes/").status_code == 200
    spare = second_factor.totp_device_with_key(caseworker, key_hex=TEST_TOTP_KEY, name="Spare")
    client.post("/accounts/security/remove/", {"device": spare.persistent_id})
    new_password = "a-brand-new-passphrase-42"
    client.post(
        "/accounts/password-change/",
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    kinds = list(NotificationEvent.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == [
        "account.recovery_codes_replaced",
        "account.device_removed",
        "account.password_changed",
    ]
    for message in NotificationEvent.objects.values_list("message", flat=True):
        assert caseworker.username not in message and caseworker.email not in message


# --- the admin's door, and superusers -------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_login_is_concords_sign_in(caseworker):
    anonymous = Client().get("/admin/login/?next=/admin/agencies/")
    assert anonymous["Location"] == "/accounts/login/?next=/admin/agencies/"
    assert (
        password_only(caseworker)
        .get("/admin/login/")["Location"]
        .startswith("/accounts/two-factor/")
    )


@pytest.mark.django_db
def test_an_agency_admin_cannot_manage_a_superusers_account(harbour, agency_admin, api):
    superuser = member(harbour, Role.CASEWORKER, is_superuser=True, is_staff=True)
    membership = superuser.membership
    for call in (
        lambda: services.member_second_factors_reset(actor=agency_admin, membership=membership),
        lambda: services.membership_deactivate(actor=agency_admin, membership=membership),
        lambda: services.membership_change_role(
            actor=agency_admin, membership=membership, role=Role.CASE_MANAGER
        ),
    ):
        with pytest.raises(PermissionDenied):
            call()
    url = f"/api/v1/agency/users/{membership.pk}/reset-second-factor/"
    assert api(agency_admin).post(url).status_code == 403
    assert TOTPDevice.objects.filter(user=superuser).exists()
