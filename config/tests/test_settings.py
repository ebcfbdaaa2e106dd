"""Settings come from the environment, with safe defaults and loud failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import Env
from core import blind_index, crypto

ROOT = Path(__file__).resolve().parents[2]


def test_readers_parse_good_values():
    env = Env({"B": "yes", "I": "42", "L": "a.example, b.example ,", "C": "demo", "EMPTY": "  "})
    assert env.bool("B", False) is True
    assert env.int("I", 0) == 42
    assert env.list("L", []) == ["a.example", "b.example"]
    assert env.choice("C", ("production", "demo"), "production") == "demo"
    assert env.str("EMPTY", "fallback") == "fallback"
    assert env.optional_str("MISSING") is None


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e: e.bool("X", False), "must be one of"),
        (lambda e: e.int("X", 1), "whole number"),
        (lambda e: e.choice("X", ("a", "b"), "a"), "must be one of a, b"),
        (lambda e: e.str("MISSING", required=True), "MISSING must be set"),
    ],
)
def test_readers_fail_loudly_on_bad_values(call, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        call(Env({"X": "maybe"}))


def test_minimum_is_enforced():
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        Env({"N": "0"}).int("N", 5, minimum=1)


# Keys for data at rest, as `python -m core.keygen` makes them.
DATA_KEYS = {
    "CONCORD_FIELD_KEYS": crypto.generate_key_spec("k2") + "," + crypto.generate_key_spec("k1"),
    "CONCORD_BLIND_INDEX_KEY": blind_index.generate_key(),
}


def _import_settings(**overrides: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", **DATA_KEYS, **overrides})
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DEBUG, settings.ALLOWED_HOSTS, settings.SESSION_COOKIE_SECURE)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


# A key as `secrets.token_urlsafe(64)` makes one: long and varied.
GOOD_KEY = "k3Y-" + "".join(chr(ord("a") + i % 26) for i in range(60))


def test_production_requires_a_secret_key():
    result = _import_settings(CONCORD_ALLOWED_HOSTS="concord.example")
    assert result.returncode != 0
    assert "CONCORD_SECRET_KEY must be set" in result.stderr


def test_production_requires_explicit_hosts_and_refuses_a_wildcard():
    result = _import_settings(CONCORD_SECRET_KEY=GOOD_KEY)
    assert result.returncode != 0 and "CONCORD_ALLOWED_HOSTS" in result.stderr
    result = _import_settings(CONCORD_SECRET_KEY=GOOD_KEY, CONCORD_ALLOWED_HOSTS="*")
    assert result.returncode != 0 and "may not contain '*'" in result.stderr


def test_production_defaults_are_safe():
    result = _import_settings(CONCORD_SECRET_KEY=GOOD_KEY, CONCORD_ALLOWED_HOSTS="concord.example")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False ['concord.example'] True"


@pytest.mark.parametrize("variable", ["CONCORD_FIELD_KEYS", "CONCORD_BLIND_INDEX_KEY"])
def test_production_refuses_to_start_without_the_keys_for_data_at_rest(variable):
    result = _import_settings(
        CONCORD_SECRET_KEY=GOOD_KEY, CONCORD_ALLOWED_HOSTS="concord.example", **{variable: ""}
    )
    assert result.returncode != 0
    assert f"{variable} must be set in production" in result.stderr


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ("k1:c2hvcnQ=", "must be 32 random bytes"),
        ("no key here", "comma-separated list of <id>:<base64 key>"),
        ("k1:" + "A" * 43 + "=,k1:" + "B" * 43 + "=", "listed twice"),
        ("bad id!:" + "A" * 43 + "=", "comma-separated list"),
    ],
)
def test_bad_field_keys_stop_start_up(keys, message):
    result = _import_settings(
        CONCORD_SECRET_KEY=GOOD_KEY,
        CONCORD_ALLOWED_HOSTS="concord.example",
        CONCORD_FIELD_KEYS=keys,
    )
    assert result.returncode != 0
    assert message in result.stderr


def test_a_short_blind_index_key_stops_start_up():
    result = _import_settings(
        CONCORD_SECRET_KEY=GOOD_KEY,
        CONCORD_ALLOWED_HOSTS="concord.example",
        CONCORD_BLIND_INDEX_KEY="c2hvcnQ=",
    )
    assert result.returncode != 0
    assert "at least 32 random bytes" in result.stderr


def test_a_bad_value_stops_start_up():
    result = _import_settings(CONCORD_ENV="demo", CONCORD_DEBUG="perhaps")
    assert result.returncode != 0 and "CONCORD_DEBUG" in result.stderr


@pytest.mark.parametrize(
    ("key", "why"),
    [("short-but-varied-key-0123456789", "49 characters or fewer"), ("ab" * 40, "2 distinct")],
)
def test_production_refuses_a_weak_secret_key(key, why):
    result = _import_settings(CONCORD_SECRET_KEY=key, CONCORD_ALLOWED_HOSTS="concord.example")
    assert result.returncode != 0, why
    assert "at least 50 random characters" in result.stderr


def test_production_refuses_debug():
    result = _import_settings(
        CONCORD_SECRET_KEY=GOOD_KEY, CONCORD_ALLOWED_HOSTS="concord.example", CONCORD_DEBUG="true"
    )
    assert result.returncode != 0 and "CONCORD_DEBUG must not be true" in result.stderr
    demo = _import_settings(CONCORD_ENV="demo", CONCORD_DEBUG="true")
    assert demo.returncode == 0, demo.stderr


def _deploy_check(**overrides: str) -> subprocess.CompletedProcess[str]:
    # As a deployment runs: none of the test run's own variables (the browser tests set
    # DJANGO_ALLOW_ASYNC_UNSAFE for Playwright, which the deploy check rightly refuses).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CONCORD_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "CONCORD_ENV": "production",
            "CONCORD_SECRET_KEY": GOOD_KEY,
            "CONCORD_ALLOWED_HOSTS": "concord.example",
            **DATA_KEYS,
            **overrides,
        }
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check_with_hsts_on_subdomains():
    result = _deploy_check()
    assert result.returncode == 0, result.stderr
    hsts = _import_settings_value(
        "SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_HSTS_PRELOAD",
        CONCORD_SECRET_KEY=GOOD_KEY,
        CONCORD_ALLOWED_HOSTS="concord.example",
    )
    assert hsts == "(True, False)"
    preload = _import_settings_value(
        "SECURE_HSTS_PRELOAD",
        CONCORD_SECRET_KEY=GOOD_KEY,
        CONCORD_ALLOWED_HOSTS="concord.example",
        CONCORD_HSTS_PRELOAD="true",
    )
    assert preload == "True"


def _import_settings_value(expression: str, **overrides: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", **DATA_KEYS, **overrides})
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            f"print((settings.{expression}))",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_demo_authenticator_secret_is_refused_in_production():
    result = _import_settings(
        CONCORD_SECRET_KEY=GOOD_KEY,
        CONCORD_ALLOWED_HOSTS="concord.example",
        CONCORD_DEMO_TOTP_SECRET="MNXW4Y3POJSC2ZDFNVXS25DPORYC2MRQ",
    )
    assert result.returncode != 0
    assert "CONCORD_DEMO_TOTP_SECRET is only for CONCORD_ENV=demo or test" in result.stderr


@pytest.mark.parametrize(
    ("secret", "message"),
    [("not base32 at all!", "must be base32"), ("MNXW4Y3P", "at least 16 bytes")],
)
def test_a_bad_demo_authenticator_secret_stops_start_up(secret, message):
    result = _import_settings(CONCORD_ENV="demo", CONCORD_DEMO_TOTP_SECRET=secret)
    assert result.returncode != 0 and message in result.stderr


def test_the_demo_authenticator_secret_is_read_in_groups_as_apps_show_it():
    value = _import_settings_value(
        "DEMO_TOTP_SECRET",
        CONCORD_ENV="demo",
        CONCORD_DEMO_TOTP_SECRET="jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp",
    )
    assert value == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


# Operator policy: page sizes, retention and review periods, limits. Setting: (environment
# variable, default, a value an operator might choose instead).
POLICIES = {
    "PAGE_SIZE": ("CONCORD_PAGE_SIZE", 25, 50),
    "MAX_PAGE_SIZE": ("CONCORD_MAX_PAGE_SIZE", 100, 200),
    "NOTIFICATION_MAX_ATTEMPTS": ("CONCORD_NOTIFICATION_MAX_ATTEMPTS", 100, 20),
    "NOTIFICATION_EVENT_RETENTION_DAYS": ("CONCORD_NOTIFICATION_EVENT_RETENTION_DAYS", 7, 30),
    "TURNED_ADULT_REVIEW_WORKING_DAYS": ("CONCORD_TURNED_ADULT_REVIEW_WORKING_DAYS", 5, 10),
    "SUPPRESSION_THRESHOLD": ("CONCORD_SUPPRESSION_THRESHOLD", 10, 11),
    "DASHBOARD_EXPORT_TTL_HOURS": ("CONCORD_DASHBOARD_EXPORT_TTL_HOURS", 24, 48),
    "INTELLIGENCE_REVIEW_DAYS": ("CONCORD_INTELLIGENCE_REVIEW_DAYS", 365, 180),
    "MATCHING_JOB_RETENTION_DAYS": ("CONCORD_MATCHING_JOB_RETENTION_DAYS", 7, 30),
}
POLICY_VALUES = ", settings.".join(POLICIES)


def test_operator_policies_have_their_defaults():
    value = _import_settings_value(POLICY_VALUES, CONCORD_ENV="demo")
    assert value == str(tuple(default for _, default, _ in POLICIES.values()))


def test_operator_policies_are_read_from_the_environment():
    chosen = {variable: str(other) for variable, _, other in POLICIES.values()}
    value = _import_settings_value(POLICY_VALUES, CONCORD_ENV="demo", **chosen)
    assert value == str(tuple(other for _, _, other in POLICIES.values()))


@pytest.mark.parametrize("variable", [variable for variable, _, _ in POLICIES.values()])
def test_an_operator_policy_of_zero_stops_start_up(variable):
    result = _import_settings(CONCORD_ENV="demo", **{variable: "0"})
    assert result.returncode != 0
    assert f"{variable} must be at least" in result.stderr


def test_a_default_page_size_above_the_largest_stops_start_up():
    result = _import_settings(CONCORD_ENV="demo", CONCORD_PAGE_SIZE="150")
    assert result.returncode != 0
    assert "CONCORD_PAGE_SIZE must not be more than CONCORD_MAX_PAGE_SIZE" in result.stderr


def _celery_conf(keys: list[str], **overrides: str) -> dict[str, object]:
    """The Celery settings the worker would run with, for these environment variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", **DATA_KEYS, **overrides})
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, django; django.setup(); from config.celery import app; "
            f"print(json.dumps({{key: app.conf[key] for key in {keys!r}}}))",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    conf: dict[str, object] = json.loads(result.stdout)
    return conf


def test_the_broker_is_redis_by_default_with_its_visibility_timeout():
    conf = _celery_conf(
        ["broker_url", "broker_transport_options", "task_default_queue_type"],
        CONCORD_ENV="demo",
        REDIS_URL="redis://cache.example:6379/3",
    )
    assert conf == {
        "broker_url": "redis://cache.example:6379/3",
        "broker_transport_options": {"visibility_timeout": 3600},
        "task_default_queue_type": "classic",
    }


@pytest.mark.parametrize("scheme", ["amqp", "amqps", "pyamqp"])
def test_an_amqp_broker_url_selects_rabbitmq_with_quorum_queues(scheme):
    from tests.real_worker import RABBITMQ_CELERY_CONF

    url = f"{scheme}://concord:secret@rabbitmq.example:5672/concord"
    conf = _celery_conf(
        ["broker_url", *RABBITMQ_CELERY_CONF],
        CONCORD_ENV="demo",
        REDIS_URL="redis://cache.example:6379/3",
        CONCORD_CELERY_BROKER_URL=url,
    )
    # Redis's visibility timeout is not passed to RabbitMQ; the real-worker tests switch
    # their own process to RabbitMQ with exactly these settings.
    assert conf == {"broker_url": url, **RABBITMQ_CELERY_CONF}


@pytest.mark.parametrize("url", ["sqs://", "memory://", "rabbitmq.example:5672", "amqpx://h/"])
def test_a_broker_url_of_another_scheme_stops_start_up(url):
    result = _import_settings(CONCORD_ENV="demo", CONCORD_CELERY_BROKER_URL=url)
    assert result.returncode != 0
    assert "CONCORD_CELERY_BROKER_URL must be a redis://" in result.stderr
