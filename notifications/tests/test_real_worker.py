"""A real Celery worker on real Redis delivers the outbox, and a killed one loses nothing.

Each test starts ``celery -A config worker`` as a subprocess on a queue of its own,
against the test database (so the rows must really commit: ``transaction=True``) and
the Redis of ``REDIS_URL`` (skipped locally without one, a failure in CI). The worker
writes its emails to files (Django's file-based backend), which is what is counted.
Waits are bounded polls; nothing asserts how fast anything is.
"""

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
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import kombu.pools
import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from config.celery import app
from notifications import publish, services
from notifications.models import Notification, NotificationEvent
from notifications.tasks import deliver_notification, requeue_undelivered

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)
BOUND = 20.0  # seconds any one wait may take before the test fails
MESSAGE = "A new urgent referral is waiting for Northshire Council"


class Boom(Exception):
    pass


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
    """DATABASE_URL of the test database this process uses (test_…), for the worker."""
    s = connection.settings_dict
    auth = ""
    if s["USER"]:
        auth = quote(s["USER"], safe="")
        if s["PASSWORD"]:
            auth += ":" + quote(s["PASSWORD"], safe="")
        auth += "@"
    host = quote(s["HOST"] or "", safe="")  # a socket directory is percent-encoded
    port = f":{s['PORT']}" if s["PORT"] else ""
    options = {k: v for k, v in s["OPTIONS"].items() if isinstance(v, str | int)}
    query = f"?{urlencode(options)}" if options else ""
    return f"postgresql://{auth}{host}{port}/{quote(s['NAME'], safe='')}{query}"


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
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
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


def _notify(recipient: Any, target: Any) -> NotificationEvent | None:
    return services.notify(
        recipients=[recipient],
        kind="referral.received",
        target=target,
        message=MESSAGE,
        url="/referrals/12/",
        dedup_key="referral:12:received",
    )


def _row() -> Notification | None:
    """The one notification, once the worker has expanded the event into it."""
    return Notification.objects.first()


def _when(field: str) -> Callable[[], Any]:
    return lambda: (row := _row()) is not None and getattr(row, field)


# --- Scenarios ----------------------------------------------------------------------


def test_a_committed_notification_is_delivered_by_the_worker_once(
    caseworker, harbour, queue, start_worker, mail_dir, redis_client
):
    with start_worker("deliverer") as worker:
        worker.wait_ready()
        with transaction.atomic():
            _notify(caseworker, harbour)
        # On commit this process's publisher thread queued the event's id; the worker
        # expands it into the notification and delivers that.
        wait_for("delivery", _when("delivered_at"))
        assert emails(mail_dir) == [f"Subject: Concord: {MESSAGE}"]

        # The same message delivered again (a broker redelivery): nothing is resent.
        deliver_notification.delay(_row().pk)
        wait_for("the duplicate to be processed", lambda: worker.succeeded() == 2)
        assert emails(mail_dir) == [f"Subject: Concord: {MESSAGE}"]
    row = _row()
    assert row.email_sent_at is not None and row.attempts == 1
    assert queue_length(redis_client, queue) == 0


def test_a_worker_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(
    caseworker, harbour, queue, start_worker, mail_dir, settings
):
    # The first worker pauses after claiming and before sending (a test-only setting).
    with start_worker("doomed", CONCORD_TEST_DELIVERY_PAUSE_SECONDS="30") as doomed:
        with transaction.atomic():
            _notify(caseworker, harbour)
        claimed_at = wait_for("the claim", _when("claimed_at"))
        doomed.process.kill()  # SIGKILL: no shutdown, no acknowledgement, no rejection
        doomed.process.wait(timeout=10)
    row = _row()
    assert (row.delivered_at, row.email_sent_at, row.attempts) == (None, None, 1)
    assert emails(mail_dir) == []

    # The claim goes stale (a 1-second lease here and in the next worker); the row is
    # older than the requeue's grace period.
    settings.NOTIFICATION_CLAIM_LEASE_SECONDS = 1
    Notification.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    wait_for("the claim to go stale", lambda: timezone.now() - claimed_at > timedelta(seconds=1))
    with start_worker("rescuer", CONCORD_NOTIFICATION_LEASE_SECONDS="1") as rescuer:
        rescuer.wait_ready()
        assert requeue_undelivered() == 1  # beat's task, run here: publishes the id
        wait_for("delivery", _when("delivered_at"))
    row = _row()
    assert row.email_sent_at is not None and row.attempts == 2
    assert emails(mail_dir) == [f"Subject: Concord: {MESSAGE}"]
    assert requeue_undelivered() == 0


def test_a_rolled_back_transaction_publishes_nothing(caseworker, harbour, queue, redis_client):
    with pytest.raises(Boom), transaction.atomic():
        _notify(caseworker, harbour)
        raise Boom
    publish.flush()  # whatever this process had to publish is published now
    assert not NotificationEvent.objects.exists()
    assert queue_length(redis_client, queue) == 0

    # The same call committed does publish to this very queue: the check above can fail.
    with transaction.atomic():
        _notify(caseworker, harbour)
    wait_for("the event's task on the queue", lambda: queue_length(redis_client, queue) == 1)
