"""A real Celery worker on a real broker delivers the outbox, and a killed one loses nothing.

Each test starts ``celery -A config worker`` as a subprocess on a queue of its own,
against the test database (so the rows must really commit: ``transaction=True``) and
the broker of tests/real_worker.py: the Redis of ``REDIS_URL``, or RabbitMQ with
``CONCORD_TEST_BROKER=rabbitmq`` (skipped locally without one, a failure in CI). The worker
writes its emails to files (Django's file-based backend), which is what is counted.
Waits are bounded polls; nothing asserts how fast anything is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from notifications import publish, services
from notifications.models import Notification, NotificationEvent
from notifications.tasks import deliver_notification, requeue_undelivered
from tests.real_worker import emails, wait_for

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]
MESSAGE = "A new urgent referral is waiting for Northshire Council"


class Boom(Exception):
    pass


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
    caseworker, harbour, queue, start_worker, mail_dir, queues
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
    assert queues.length(queue) == 0


def test_a_worker_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(
    caseworker, harbour, queue, queues, start_worker, mail_dir, settings
):
    # The first worker pauses after claiming and before sending (a test-only setting).
    with start_worker("doomed", CONCORD_TEST_DELIVERY_PAUSE_SECONDS="30") as doomed:
        with transaction.atomic():
            _notify(caseworker, harbour)
        claimed_at = wait_for("the claim", _when("claimed_at"))
        assert queues.length(queue) == 0  # the worker holds the one message
        doomed.process.kill()  # SIGKILL: no shutdown, no acknowledgement, no rejection
        doomed.process.wait(timeout=10)
    row = _row()
    assert (row.delivered_at, row.email_sent_at, row.attempts) == (None, None, 1)
    assert emails(mail_dir) == []
    if queues.redelivers_at_once:
        # RabbitMQ: the dead connection's unacknowledged message is back on the queue.
        wait_for("the message back on the queue", lambda: queues.length(queue) == 1)
    else:
        # Redis: it waits in kombu's "unacked" hash for the visibility timeout (an hour).
        assert queues.length(queue) == 0

    # The claim goes stale (a 1-second lease here and in the next worker); the row is
    # older than the requeue's grace period.
    settings.NOTIFICATION_CLAIM_LEASE_SECONDS = 1
    Notification.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    wait_for("the claim to go stale", lambda: timezone.now() - claimed_at > timedelta(seconds=1))
    with start_worker("rescuer", CONCORD_NOTIFICATION_LEASE_SECONDS="1") as rescuer:
        rescuer.wait_ready()
        assert requeue_undelivered() == 1  # beat's task, run here: publishes the id
        wait_for("delivery", _when("delivered_at"))
        if queues.redelivers_at_once:
            # The redelivered message (the event's expansion) found the event expanded
            # and did nothing: the claim, not the broker, decides who sends.
            wait_for("both messages done", lambda: rescuer.succeeded() == 2)
            assert queues.length(queue) == 0
    row = _row()
    assert row.email_sent_at is not None and row.attempts == 2
    assert emails(mail_dir) == [f"Subject: Concord: {MESSAGE}"]
    assert requeue_undelivered() == 0


def test_a_rolled_back_transaction_publishes_nothing(caseworker, harbour, queue, queues):
    with pytest.raises(Boom), transaction.atomic():
        _notify(caseworker, harbour)
        raise Boom
    publish.flush()  # whatever this process had to publish is published now
    assert not NotificationEvent.objects.exists()
    assert queues.length(queue) == 0

    # The same call committed does publish to this very queue: the check above can fail.
    with transaction.atomic():
        _notify(caseworker, harbour)
    wait_for("the event's task on the queue", lambda: queues.length(queue) == 1)
