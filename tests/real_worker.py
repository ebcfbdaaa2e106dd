"""A real Celery worker on a real broker, for tests that need one (notifications, dashboard
exports, intelligence matching): a queue of the test's own, the worker started against the
test database, its emails in a folder, and waits bounded in time. Loaded by the root
conftest.

The broker is Redis (``REDIS_URL``) unless ``CONCORD_TEST_BROKER=rabbitmq``: then RabbitMQ
at ``CONCORD_TEST_RABBITMQ_URL`` (``amqp://guest:guest@127.0.0.1:5672//`` by default),
each test's queue a quorum queue deleted after it. Either is skipped when unreachable on
a developer's machine and a failure in CI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kombu
import kombu.pools
import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery import app
from devtools.database import url_of

ROOT = Path(settings.BASE_DIR)
BOUND = 20.0  # seconds any one wait may take before the test fails
TEST_BROKER = os.environ.get("CONCORD_TEST_BROKER") or "redis"
if TEST_BROKER not in ("redis", "rabbitmq"):
    raise pytest.UsageError(f"CONCORD_TEST_BROKER must be redis or rabbitmq, not {TEST_BROKER!r}")
RABBITMQ_URL = os.environ.get("CONCORD_TEST_RABBITMQ_URL") or "amqp://guest:guest@127.0.0.1:5672//"
# What config/settings.py sets for an amqp:// CONCORD_CELERY_BROKER_URL (the worker reads
# it there; this process, configured at start-up for Redis, is switched here).
# config/tests/test_settings.py checks that the two agree.
RABBITMQ_CELERY_CONF: dict[str, Any] = {
    "task_default_queue_type": "quorum",
    "task_create_missing_queue_type": "quorum",
    "task_default_exchange_type": "topic",
    "task_create_missing_queue_exchange_type": "topic",
    "worker_detect_quorum_queues": True,
    "broker_transport_options": {"confirm_publish": True},
}


def wait_for(what: str, check: Callable[[], Any], timeout: float = BOUND) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def worker_database_url() -> str:
    """DATABASE_URL of the database this process uses, for the process it starts: as the
    app role when there is one (the suite itself runs as the schema owner)."""
    from audit import roles

    if not roles.separate_roles():
        return url_of(connection.settings_dict)
    app = roles.app_role()
    return url_of({**connection.settings_dict, "USER": app["USER"], "PASSWORD": app["PASSWORD"]})


# --- The test process publishes to the worker's queue on the broker ----------------


def _forget_broker_connections() -> None:
    # Celery caches its broker connection pools on first use; drop them (as Celery does
    # after a fork) and close kombu's, so that the broker URL in force now is the one used.
    app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()
    # Likewise its queue and exchange declarations, built from the settings at first use.
    for cached in ("queues", "default_exchange"):
        app.amqp.__dict__.pop(cached, None)


class RedisQueues:
    """The test's queue on Redis: kombu keeps its messages in lists."""

    name = "redis"
    # A message a killed worker took waits in kombu's "unacked" hash for the visibility
    # timeout (an hour) before it is handed out again.
    redelivers_at_once = False

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = redis.Redis.from_url(url)

    def _keys(self, queue: str) -> list[bytes]:
        """The Redis lists holding the queue's messages (one per priority step)."""
        return [
            key
            for key in self.client.scan_iter(match=f"{queue}*")
            if self.client.type(key) == b"list"
        ]

    def length(self, queue: str) -> int:
        """Messages waiting on the queue (not those a worker holds)."""
        return sum(self.client.llen(key) for key in self._keys(queue))

    def drop(self, queue: str) -> None:
        for key in self.client.scan_iter(match=f"*{queue}*"):
            self.client.delete(key)
        # Remove our unacknowledged messages, so nothing of this test outlives it.
        for tag, raw in self.client.hscan_iter("unacked"):
            try:
                routing_key = json.loads(raw)[2]
            except (ValueError, IndexError, TypeError):
                continue
            if routing_key == queue:
                self.client.hdel("unacked", tag)
                self.client.zrem("unacked_index", tag)

    def close(self) -> None:
        self.client.close()


class RabbitQueues:
    """The test's quorum queue on RabbitMQ."""

    name = "rabbitmq"
    # The broker puts a message back the moment its consumer's connection closes.
    redelivers_at_once = True

    def __init__(self, url: str) -> None:
        self.url = url

    def length(self, queue: str) -> int:
        """Messages ready on the queue (not those a worker holds); 0 if not declared yet."""
        with kombu.Connection(self.url) as conn:
            try:
                _, count, _ = conn.default_channel.queue_declare(queue, passive=True)
            except conn.channel_errors:  # 404: no such queue (yet)
                return 0
            return int(count)

    def drop(self, queue: str) -> None:
        with kombu.Connection(self.url) as conn:
            channel = conn.default_channel
            channel.queue_delete(queue)
            channel.exchange_delete(queue)

    def close(self) -> None:
        pass


def _rabbitmq_url() -> str:
    try:
        with kombu.Connection(RABBITMQ_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as error:  # kombu raises the transport's own errors here
        from conftest import need_service

        need_service(f"RabbitMQ at {RABBITMQ_URL} does not answer: {error}")
    return RABBITMQ_URL


@pytest.fixture
def broker_url(request: pytest.FixtureRequest) -> str:
    """The reachable broker the real-worker tests use (CONCORD_TEST_BROKER)."""
    if TEST_BROKER == "rabbitmq":
        return _rabbitmq_url()
    url: str = request.getfixturevalue("redis_url")
    return url


@pytest.fixture
def queues(broker_url: str) -> Iterator[RedisQueues | RabbitQueues]:
    """What is waiting on the broker's queues."""
    inspector = RabbitQueues(broker_url) if TEST_BROKER == "rabbitmq" else RedisQueues(broker_url)
    yield inspector
    inspector.close()


@pytest.fixture
def queue(broker_url: str, queues: RedisQueues | RabbitQueues) -> Iterator[str]:
    """A queue of this test's own on the real broker; this process publishes to it."""
    name = f"concord-test-notifications-{uuid.uuid4().hex[:12]}"
    overrides: dict[str, Any] = {
        "broker_url": broker_url,
        "task_always_eager": False,
        "task_default_queue": name,
    }
    if TEST_BROKER == "rabbitmq":
        overrides.update(RABBITMQ_CELERY_CONF)
    saved = {key: app.conf[key] for key in overrides}
    _forget_broker_connections()
    app.conf.update(overrides)
    try:
        yield name
    finally:
        _forget_broker_connections()
        app.conf.update(saved)
        _forget_broker_connections()
        queues.drop(name)


# --- Real workers -------------------------------------------------------------------


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited early:\n{self.output()}")
            return " ready." in self.output()

        wait_for("the worker to start", ready)

    def succeeded(self) -> int:
        return self.output().count("succeeded in")


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    path = tmp_path / "mail"
    path.mkdir()
    return path


def emails(mail_dir: Path) -> list[str]:
    """Every email the workers sent (the file-based backend writes one file a send)."""
    return [
        line
        for message_file in sorted(mail_dir.iterdir())
        for line in message_file.read_text().splitlines()
        if line.startswith("Subject: ")
    ]


@pytest.fixture
def start_worker(broker_url: str, queue: str, mail_dir: Path, tmp_path: Path) -> Callable[..., Any]:
    @contextmanager
    def start(name: str, **environ: str) -> Iterator[Worker]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("CONCORD_") and k != "DATABASE_OWNER_URL"
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings_test",
            CONCORD_ENV="test",
            DATABASE_URL=worker_database_url(),
            # The worker's broker; REDIS_URL (its cache) is left as the suite has it.
            CONCORD_CELERY_BROKER_URL=broker_url,
            CONCORD_CELERY_EAGER="false",
            CONCORD_CELERY_QUEUE=queue,
            CONCORD_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            CONCORD_EMAIL_FILE_PATH=str(mail_dir),
            CONCORD_BASE_URL="https://concord.example.org",
            PYTHONUNBUFFERED="1",
            **environ,
        )
        log = tmp_path / f"{name}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--pool", "solo", "--concurrency", "1", "--loglevel", "INFO",
            "-Q", queue, "--hostname", f"{name}-{queue}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        worker = Worker(process, log)
        try:
            yield worker
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)

    return start
