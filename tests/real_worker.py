"""A real Celery worker on real Redis, for tests that need one (notifications, dashboard
exports): a queue of the test's own, the worker started against the test database, its
emails in a folder, and waits bounded in time. Loaded by the root conftest."""

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

import kombu.pools
import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery import app
from devtools.database import url_of

ROOT = Path(settings.BASE_DIR)
BOUND = 20.0  # seconds any one wait may take before the test fails


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


# --- The test process publishes to the worker's queue on Redis ----------------------


def _forget_broker_connections() -> None:
    # Celery caches its broker connection pools on first use; drop them (as Celery does
    # after a fork) and close kombu's, so that the broker URL in force now is the one used.
    app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()


def queue_keys(client: redis.Redis, queue: str) -> list[bytes]:
    """The Redis lists holding the queue's messages (one per priority step)."""
    return [key for key in client.scan_iter(match=f"{queue}*") if client.type(key) == b"list"]


def queue_length(client: redis.Redis, queue: str) -> int:
    return sum(client.llen(key) for key in queue_keys(client, queue))


def _drop_queue(client: redis.Redis, queue: str) -> None:
    for key in client.scan_iter(match=f"*{queue}*"):
        client.delete(key)
    # A killed worker's unacknowledged message waits in kombu's "unacked" hash for the
    # visibility timeout; remove ours so nothing of this test outlives it.
    for tag, raw in client.hscan_iter("unacked"):
        try:
            routing_key = json.loads(raw)[2]
        except (ValueError, IndexError, TypeError):
            continue
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def queue(redis_url: str, redis_client: redis.Redis) -> Iterator[str]:
    """A queue of this test's own on the real Redis; this process publishes to it."""
    name = f"concord-test-notifications-{uuid.uuid4().hex[:12]}"
    saved = {
        "broker_url": app.conf.broker_url,
        "task_always_eager": app.conf.task_always_eager,
        "task_default_queue": app.conf.task_default_queue,
    }
    _forget_broker_connections()
    app.conf.update(broker_url=redis_url, task_always_eager=False, task_default_queue=name)
    try:
        yield name
    finally:
        _forget_broker_connections()
        app.conf.update(saved)
        _drop_queue(redis_client, name)


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
def start_worker(redis_url: str, queue: str, mail_dir: Path, tmp_path: Path) -> Callable[..., Any]:
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
            REDIS_URL=redis_url,
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
