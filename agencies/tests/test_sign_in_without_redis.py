"""Signing in for a token keeps working when Redis (the shared cache) is down: the
throttles count in this process's memory meanwhile, and say so in the log (issue 19)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from rest_framework.test import APIClient

from agencies import throttles
from agencies.models import Role
from agencies.tests.factories import PASSWORD, code_for, member

pytestmark = pytest.mark.django_db
TOKEN = "/api/v1/auth/token/"
# Nothing listens on port 1: every cache call is refused, as with Redis down.
DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "KEY_PREFIX": "concord",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


@pytest.fixture
def redis_down(settings):
    settings.CACHES = DEAD_REDIS
    throttles.fallback_cache.clear()
    yield
    throttles.fallback_cache.clear()


def sign_in(username: str, password: str = PASSWORD, **meta: Any) -> int:
    from agencies.models import User

    user = User.objects.filter(username=username).first()
    otp = code_for(user) if user is not None else "000000"
    response = APIClient().post(
        TOKEN, {"username": username, "password": password, "otp": otp}, format="json", **meta
    )
    return response.status_code


def test_a_member_signs_in_while_redis_is_down_and_the_log_says_why(harbour, redis_down, caplog):
    person = member(harbour, Role.CASEWORKER, username="dora")
    with caplog.at_level(logging.WARNING, logger="agencies.throttles"):
        assert sign_in(person.username) == 201
    assert any("memory of this process" in record.getMessage() for record in caplog.records)


def test_the_throttles_still_count_while_redis_is_down(settings, redis_down):
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth_username"].split("/")[0])
    statuses = [sign_in("alice", "wrong", REMOTE_ADDR=f"192.0.2.{i + 1}") for i in range(rate + 1)]
    assert statuses[:rate] == [401] * rate
    assert statuses[rate] == 429  # counted in this process's memory

    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"].split("/")[0])
    statuses = [
        sign_in(f"nobody-{i}", "wrong", REMOTE_ADDR="198.51.100.9") for i in range(rate + 1)
    ]
    assert statuses[:rate] == [401] * rate
    assert statuses[rate] == 429
