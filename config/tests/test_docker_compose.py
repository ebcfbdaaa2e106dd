"""The container files (Dockerfile, docker-compose.yml, .env.example) agree with the code.

No Docker engine is needed: the files are parsed, and what they name is resolved here.
"""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app
from gunicorn.config import Config as GunicornConfig

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "beat")
# Read by settings, but deliberately not in the production template .env.example.
NOT_IN_EXAMPLE = {
    "CONCORD_DEBUG",  # debug pages must never be served in production; off by default
    "CONCORD_DEMO_PASSWORD",  # only for the users `make demo` seeds
    "CONCORD_DEMO_TOTP_SECRET",  # the demo's shared authenticator; refused in production
}
SETTINGS_ENV_NAME = re.compile(r"env\.\w+\(\s*\"(CONCORD_[A-Z_]+)\"")


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose


def _services() -> dict[str, dict[str, Any]]:
    return _compose()["services"]


def _commands(service: str) -> list[list[str]]:
    """The service's command as argv lists, one per `&&`-joined step of an `sh -c`."""
    command = _services()[service]["command"]
    argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    if argv[:2] != ["sh", "-c"]:
        return [argv]
    steps: list[list[str]] = [[]]
    for token in shlex.split(argv[2]):
        if token == "&&":
            steps.append([])
        elif not (token == "exec" and not steps[-1]):
            steps[-1].append(token)
    return steps


def _celery(service: str) -> tuple[str, str, list[str]]:
    """(app, subcommand, options) of `celery -A app subcommand options...`."""
    [argv] = _commands(service)
    assert argv[:2] == ["celery", "-A"], argv
    return argv[2], argv[3], argv[4:]


def _example() -> dict[str, str]:
    values: dict[str, str] = {}
    previous = ""
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep and name.isidentifier(), f"not NAME=value: {line!r}"
            assert previous.startswith("#"), f"{name} has no comment above it"
            values[name] = value
        if line:
            previous = line
    return values


def _settings_names() -> set[str]:
    return set(SETTINGS_ENV_NAME.findall((ROOT / "config" / "settings.py").read_text()))


def test_compose_services_share_one_image_and_wait_for_healthy_stores() -> None:
    services = _services()
    assert {*APP_SERVICES, "postgres", "redis"} <= services.keys()
    assert {services[name].get("image") for name in APP_SERVICES} == {"concord:latest"}
    for name in APP_SERVICES:
        service = services[name]
        assert service["build"] in (".", {"context": "."}), name
        assert service["env_file"] in (".env", [".env"]), name
        for store in ("postgres", "redis"):
            assert service["depends_on"][store]["condition"] == "service_healthy", name
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])
    for store in ("postgres", "redis"):
        assert services[store]["healthcheck"]["test"], store


def test_web_migrates_then_serves_the_wsgi_application_with_gunicorn() -> None:
    migrate, serve = _commands("web")
    assert migrate == ["python", "manage.py", "migrate", "--no-input"]
    assert serve[0] == "gunicorn"
    options = GunicornConfig().parser().parse_args(serve[1:])
    assert options.workers >= 2
    assert options.bind == ["0.0.0.0:8000"]
    [target] = options.args
    module_name, _, attribute = target.partition(":")
    assert callable(getattr(importlib.import_module(module_name), attribute))


@pytest.mark.parametrize("service", ["worker", "beat"])
def test_celery_services_run_the_project_app(service: str) -> None:
    app_name, subcommand, _ = _celery(service)
    assert subcommand == service
    app = importlib.import_module("config.celery").app
    assert isinstance(app, Celery)
    assert find_app(app_name) is app  # how `celery -A <app_name>` resolves it


def test_beat_keeps_its_schedule_in_a_named_volume() -> None:
    *_, options = _celery("beat")
    schedule = PurePosixPath(options[options.index("--schedule") + 1])
    compose = _compose()
    sources: dict[str, str] = {}  # mount point -> volume
    for volume in compose["services"]["beat"]["volumes"]:
        source, target = volume.split(":")[:2]
        sources[target] = source
    assert sources.get(str(schedule.parent)) in compose["volumes"]


def test_env_example_names_exactly_the_concord_variables_settings_read() -> None:
    in_settings = _settings_names()
    in_example = {name for name in _example() if name.startswith("CONCORD_")}
    assert in_example - in_settings == set(), "in .env.example but never read by settings"
    assert in_settings - NOT_IN_EXAMPLE - in_example == set(), "missing from .env.example"
    assert in_settings >= NOT_IN_EXAMPLE, "stale exclusion: settings no longer read it"
    assert not NOT_IN_EXAMPLE & in_example


def test_env_example_points_at_the_compose_services() -> None:
    example = _example()
    assert example["CONCORD_ENV"] == "production"
    compose_text = (ROOT / "docker-compose.yml").read_text()
    assert set(re.findall(r"(?<!\$)\$\{(\w+)", compose_text)) <= example.keys()
    # The app and the schema owner connect as the roles the postgres container makes
    # (README, "Database roles"), never as its superuser.
    for variable, role in (("DATABASE_URL", "APP"), ("DATABASE_OWNER_URL", "OWNER")):
        database = urlsplit(example[variable])
        assert (database.scheme, database.hostname) == ("postgresql", "postgres")
        assert database.username == example[f"POSTGRES_{role}_USER"], variable
        assert database.password == example[f"POSTGRES_{role}_PASSWORD"], variable
        assert database.path == f"/{example['POSTGRES_DB']}"
    users = {example[f"POSTGRES_{role}USER"] for role in ("", "OWNER_", "APP_")}
    assert len(users) == 3, "the superuser, the owner and the app are three roles"
    redis = urlsplit(example["REDIS_URL"])
    assert (redis.scheme, redis.hostname) == ("redis", "redis")


def test_postgres_makes_the_owner_and_app_roles_on_its_first_start() -> None:
    postgres = _services()["postgres"]
    mounts = dict(reversed(volume.split(":")[:2]) for volume in postgres["volumes"])
    script = mounts["/docker-entrypoint-initdb.d/concord-roles.sh"]
    sql = mounts["/etc/concord/concord-roles.sql"]
    assert (ROOT / script).is_file() and (ROOT / sql).is_file()
    assert "/etc/concord/concord-roles.sql" in (ROOT / script).read_text()
    for role in ("OWNER", "APP"):
        for part in ("USER", "PASSWORD"):
            assert f"POSTGRES_{role}_{part}" in postgres["environment"]
    # Healthy once it listens on TCP: after the init scripts, not during them.
    assert "-h 127.0.0.1" in " ".join(postgres["healthcheck"]["test"])


def test_dockerfile_uses_python_311_or_newer_and_drops_root() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = list(re.finditer(r"^FROM\s+(?:--platform=\S+\s+)?(\S+)", text, re.MULTILINE))
    base = stages[-1][1]  # the final stage is the image that runs
    version = re.fullmatch(r"python:(\d+)\.(\d+)\b.*", base)
    assert version, base
    assert (int(version[1]), int(version[2])) >= (3, 11)
    users = list(re.finditer(r"^USER\s+(\S+)", text, re.MULTILINE))
    assert users, "no USER line: the image would run as root"
    assert users[-1].start() > stages[-1].start()
    assert users[-1][1].split(":")[0] not in {"root", "0"}
    assert re.search(r"^EXPOSE\s+8000\b", text, re.MULTILINE)
    assert not re.search(r"pip install.*requirements-dev", text)
