"""The token endpoint's throttle cannot be sidestepped: a forged
X-Forwarded-For gives no fresh allowance, one address spraying many usernames is slowed,
one username is slowed from anywhere, and an office behind one address still signs 30
people in within a minute."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from agencies.models import Role
from agencies.tests.factories import PASSWORD, code_for, member
from audit.client import client_ip

pytestmark = pytest.mark.django_db
TOKEN = "/api/v1/auth/token/"


def sign_in(username: str, password: str = PASSWORD, **meta: str) -> int:
    from agencies.models import User

    user = User.objects.filter(username=username).first()
    otp = code_for(user) if user is not None else "000000"
    response = APIClient().post(
        TOKEN, {"username": username, "password": password, "otp": otp}, format="json", **meta
    )
    return response.status_code


def test_a_forged_forwarded_for_gives_no_fresh_allowance(settings):
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"].split("/")[0])
    statuses = [
        sign_in(f"nobody-{i}", "wrong", HTTP_X_FORWARDED_FOR=f"10.9.{i // 250}.{i % 250}")
        for i in range(rate + 1)
    ]
    assert statuses[:rate] == [401] * rate
    assert statuses[rate] == 429  # the same REMOTE_ADDR, whatever the header says


def test_an_office_behind_one_address_signs_thirty_people_in_within_a_minute(harbour):
    people = [member(harbour, Role.CASEWORKER, username=f"staff-{i:02d}") for i in range(30)]
    assert [sign_in(person.username) for person in people] == [201] * 30


def test_one_username_is_slowed_from_any_address(settings):
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth_username"].split("/")[0])
    statuses = [sign_in("Alice ", "wrong", REMOTE_ADDR=f"192.0.2.{i + 1}") for i in range(rate + 1)]
    assert statuses[:rate] == [401] * rate
    assert statuses[rate] == 429
    # Case and spaces do not make another username.
    assert sign_in("ALICE", "wrong", REMOTE_ADDR="198.51.100.7") == 429


class _Request:
    def __init__(self, **meta: str) -> None:
        self.META = meta


def test_the_client_address_behind_trusted_proxies(settings):
    forged = "203.0.113.66, 198.51.100.20"  # the client wrote the first; the proxy the last
    settings.TRUSTED_PROXIES = 0
    assert client_ip(_Request(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forged)) == "10.0.0.5"
    settings.TRUSTED_PROXIES = 1
    assert client_ip(_Request(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forged)) == (
        "198.51.100.20"
    )
    settings.TRUSTED_PROXIES = 2
    assert client_ip(_Request(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forged)) == (
        "203.0.113.66"
    )
    # Fewer hops than proxies, or garbage: the direct peer, never the header.
    settings.TRUSTED_PROXIES = 3
    assert client_ip(_Request(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forged)) == "10.0.0.5"
    settings.TRUSTED_PROXIES = 1
    assert client_ip(_Request(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="x, <script>")) == (
        "10.0.0.5"
    )


def test_behind_a_proxy_each_client_has_its_own_allowance(settings):
    settings.TRUSTED_PROXIES = 1
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"].split("/")[0])
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for i in range(rate):
        assert sign_in(f"n-{i}", "x", HTTP_X_FORWARDED_FOR="192.0.2.10", **proxy) == 401
    assert sign_in("n-last", "x", HTTP_X_FORWARDED_FOR="192.0.2.10", **proxy) == 429
    # Another client through the same proxy, and a forged first hop changes nothing.
    assert sign_in("n-other", "x", HTTP_X_FORWARDED_FOR="192.0.2.11", **proxy) == 401
    assert sign_in("n-forged", "x", HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.10", **proxy) == 429
