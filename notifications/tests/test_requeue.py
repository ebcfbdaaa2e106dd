"""Beat re-queues only rows whose task is presumed lost: old, undelivered, unclaimed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from notifications import services
from notifications.tasks import requeue_undelivered

pytestmark = pytest.mark.django_db

LEASE = timedelta(seconds=300)


@pytest.fixture(autouse=True)
def _lease(settings):
    settings.NOTIFICATION_CLAIM_LEASE_SECONDS = int(LEASE.total_seconds())


@pytest.fixture
def rows(caseworker, make_notification):
    now = timezone.now()
    old = now - timedelta(minutes=5)
    return {
        "fresh": make_notification(caseworker, created_at=now - timedelta(seconds=5)),
        "lost": make_notification(caseworker, created_at=old),
        "being_delivered": make_notification(
            caseworker, created_at=old, claimed_at=now - timedelta(seconds=10), attempts=1
        ),
        "dead_claim": make_notification(
            caseworker, created_at=old - timedelta(minutes=1), claimed_at=now - LEASE * 2
        ),
        "delivered": make_notification(caseworker, created_at=old, delivered_at=now),
        "given_up": make_notification(caseworker, created_at=old, attempts=services.MAX_ATTEMPTS),
    }


def test_only_stale_undelivered_rows_oldest_first(rows):
    assert services.notifications_to_requeue() == [rows["dead_claim"].pk, rows["lost"].pk]


def test_a_run_is_capped(rows):
    assert services.notifications_to_requeue(limit=1) == [rows["dead_claim"].pk]


def test_the_beat_task_delivers_what_it_requeues(rows, mailoutbox):
    assert requeue_undelivered() == 2  # eager in unit tests: delivered here
    assert len(mailoutbox) == 2
    for name, row in rows.items():
        row.refresh_from_db()
        assert (row.delivered_at is not None) == (name in {"lost", "dead_claim", "delivered"})
    assert requeue_undelivered() == 0


def test_beat_runs_the_requeue_every_minute():
    entry = django_settings.CELERY_BEAT_SCHEDULE["notifications-requeue"]
    assert entry["task"] == "notifications.tasks.requeue_undelivered"
    assert entry["schedule"] == 60.0
