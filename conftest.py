"""Fixtures for the whole suite, named for the people in the story (STYLE.md).

Harbour Trust (a charity) is the agency most stories start from; the Council, the
police and the prosecutors are its partners; Southshire Police is outside.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from agencies.models import Agency, AgencyKind, Partnership, Role, User
from agencies.tests.factories import AgencyFactory, member, verify_session

IN_CI = os.environ.get("CI", "").lower() == "true"

# A real Celery worker on real Redis (notifications' delivery, dashboard exports); the
# permission matrix's world, built once per module of rows (``<app>/tests/test_permissions*``).
pytest_plugins = ["tests.real_worker", "tests.permission_matrix"]


def need_service(reason: str) -> None:
    """Skip a test whose service is absent on a developer's machine; fail it in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing service is a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """The test runner creates and migrates its database as the schema owner
    (DATABASE_OWNER_URL), and the suite runs as it; migrate grants the app role
    (DATABASE_URL) its privileges, which audit/tests/test_db_roles.py checks as that role."""
    from audit import roles

    owner = roles.owner_role()
    if owner is not None:
        roles.use_role(owner, database=False)


@pytest.fixture
def harbour(db: None) -> Agency:
    return AgencyFactory(name="Harbour Trust", kind=AgencyKind.CHARITY)


@pytest.fixture
def council(db: None) -> Agency:
    return AgencyFactory(name="Northshire Council", kind=AgencyKind.SOCIAL_SERVICES)


@pytest.fixture
def police(db: None) -> Agency:
    return AgencyFactory(name="Northshire Police", kind=AgencyKind.POLICE)


@pytest.fixture
def prosecution(db: None) -> Agency:
    return AgencyFactory(
        name="Crown Prosecution", kind=AgencyKind.PROSECUTION, is_first_responder=False
    )


@pytest.fixture
def outside_police(db: None) -> Agency:
    return AgencyFactory(name="Southshire Police", kind=AgencyKind.POLICE, region="Southshire")


@pytest.fixture
def partnership(
    harbour: Agency, council: Agency, police: Agency, prosecution: Agency
) -> Partnership:
    p = Partnership.objects.create(name="Northshire Partnership", starts_on="2024-04-01")
    p.agencies.set([harbour, council, police, prosecution])
    return p


@pytest.fixture
def caseworker(harbour: Agency) -> User:
    return member(harbour, Role.CASEWORKER, username="alice")


@pytest.fixture
def case_manager(harbour: Agency) -> User:
    return member(harbour, Role.CASE_MANAGER, username="bob")


@pytest.fixture
def agency_admin(harbour: Agency) -> User:
    return member(harbour, Role.AGENCY_ADMIN, username="harbour-admin")


@pytest.fixture
def other_agency_caseworker(council: Agency) -> User:
    return member(council, Role.CASEWORKER, username="charlie")


@pytest.fixture
def other_agency_admin(council: Agency) -> User:
    return member(council, Role.AGENCY_ADMIN, username="council-admin")


@pytest.fixture
def manager(council: Agency) -> User:
    return member(council, Role.PARTNERSHIP_MANAGER, username="manager")


@pytest.fixture
def police_officer(police: Agency) -> User:
    return member(police, Role.OFFICER, username="officer")


@pytest.fixture
def analyst(police: Agency) -> User:
    return member(police, Role.ANALYST, username="analyst")


@pytest.fixture
def prosecutor(prosecution: Agency) -> User:
    return member(prosecution, Role.PROSECUTOR, username="prosecutor")


@pytest.fixture
def outside_officer(outside_police: Agency) -> User:
    return member(outside_police, Role.OFFICER, username="outsider")


@pytest.fixture
def login() -> Callable[[User | None], Client]:
    """A browser client signed in as ``user`` (anonymous for None)."""

    def make(user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
            verify_session(client, user)
        return client

    return make


@pytest.fixture
def admin_client(admin_client: Client, admin_user: User) -> Client:
    """pytest-django's superuser client, past the second step too (the admin needs it)."""
    return verify_session(admin_client, admin_user)


@pytest.fixture
def api() -> Callable[[User | None], APIClient]:
    """An API client signed in as ``user`` (anonymous for None). A real session, so the
    user is reloaded on every request, as in production."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_login(user)
            verify_session(client, user)
        return client

    return make


def _rebuild_private_storage() -> None:
    """The private storage reads CONCORD_PRIVATE_ROOT again when next used."""
    from django.utils.functional import empty

    from casework.storage import private_storage

    private_storage._wrapped = empty


@pytest.fixture
def private_root(settings: Any, tmp_path: Any) -> Any:
    """Documents stored under this test's own directory (the private storage is rebuilt
    around it)."""
    settings.CONCORD_PRIVATE_ROOT = tmp_path
    _rebuild_private_storage()
    yield tmp_path
    _rebuild_private_storage()


@pytest.fixture(scope="module")
def module_private_root(tmp_path_factory: Any) -> Any:
    """``private_root`` for a whole module: documents its shared records keep (the
    permission matrix's world) stay readable by every test in it. Set outside pytest-django's
    function-scoped ``settings``, which a test may still use on top of it."""
    from django.test import override_settings

    root = tmp_path_factory.mktemp("private")
    with override_settings(CONCORD_PRIVATE_ROOT=root):
        _rebuild_private_storage()
        yield root
    _rebuild_private_storage()


@pytest.fixture
def notification_worker(db: None) -> Callable[[], None]:
    """What the Celery worker does after a commit, run here: expand every notification
    event written so far into notifications, and deliver them (test email backend)."""

    def run() -> None:
        from notifications.models import NotificationEvent
        from notifications.tasks import expand_notification_event

        pending = NotificationEvent.objects.filter(expanded_at__isnull=True).order_by("pk")
        for event_id in pending.values_list("pk", flat=True):
            expand_notification_event(event_id)

    return run


class Broker:
    """A broker that is down until ``back()``; ``published`` lists each attempted publish
    as (task name, args): what a message would have carried."""

    def __init__(self, publish: Any, original: Callable[..., Any]) -> None:
        self._publish = publish
        self._original = original

    @property
    def published(self) -> list[tuple[str, tuple[Any, ...]]]:
        return [
            (call.args[0].name, tuple(call.args[1] or ())) for call in self._publish.call_args_list
        ]

    def back(self) -> None:
        self._publish.side_effect = self._original


@pytest.fixture
def broker_down() -> Iterator[Broker]:
    """The broker (Redis) is down: every publish of a task raises what Celery raises then,
    kombu's ``OperationalError`` (with Celery eager, nothing runs), until ``back()``."""
    from unittest import mock

    from celery.app.task import Task
    from kombu.exceptions import OperationalError

    original = Task.apply_async
    refused = OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    with mock.patch.object(Task, "apply_async", autospec=True, side_effect=refused) as publish:
        yield Broker(publish, original)


@pytest.fixture
def redis_url(settings: Any) -> str:
    """A reachable Redis (REDIS_URL): skipped without one locally, required in CI."""
    import redis

    url = settings.REDIS_URL or os.environ.get("REDIS_URL")
    if not url:
        need_service("REDIS_URL is not set")
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        need_service(f"Redis at REDIS_URL does not answer: {error}")
    finally:
        client.close()
    return url


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttles and other cached counters start from zero in every test."""
    from django.core.cache import cache

    cache.clear()
