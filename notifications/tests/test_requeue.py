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
MAX_ATTEMPTS = 3


@pytest.fixture(autouse=True)
def _lease(settings):
    settings.NOTIFICATION_CLAIM_LEASE_SECONDS = int(LEASE.total_seconds())
    settings.NOTIFICATION_MAX_ATTEMPTS = MAX_ATTEMPTS


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
        "given_up": make_notification(caseworker, created_at=old, attempts=MAX_ATTEMPTS),
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


def test_a_run_while_the_broker_is_down_loses_nothing(rows, mailoutbox, broker_down):
    # Before issue 19 the first refused publish crashed the run; now each is logged.
    assert requeue_undelivered() == 0
    assert sorted(args for _name, args in broker_down.published) == sorted(
        [(rows["dead_claim"].pk,), (rows["lost"].pk,)]
    )
    assert mailoutbox == []
    broker_down.back()
    assert requeue_undelivered() == 2
    assert len(mailoutbox) == 2


def test_beat_runs_the_requeue_every_minute():
    entry = django_settings.CELERY_BEAT_SCHEDULE["notifications-requeue"]
    assert entry["task"] == "notifications.tasks.requeue_undelivered"
    assert entry["schedule"] == 60.0


def test_events_left_unexpanded_are_expanded_by_the_requeue(
    caseworker, harbour, mailoutbox, settings
):
    """The web process died before publishing the event's task: beat picks it up."""
    from notifications.models import Notification, NotificationEvent

    def event(age: timedelta, key: str) -> NotificationEvent:
        return NotificationEvent.objects.create(
            kind="referral.received",
            target_type="agencies.agency",
            target_id=str(harbour.pk),
            message="A referral is waiting",
            url="/referrals/",
            dedup_key=key,
            recipient_ids=[caseworker.pk],
            created_at=timezone.now() - age,
        )

    lost = event(timedelta(minutes=2), "lost")
    fresh = event(timedelta(seconds=5), "fresh")
    assert services.events_to_requeue() == [lost.pk]
    assert requeue_undelivered() == 1  # eager in unit tests: expanded and delivered here
    assert list(Notification.objects.values_list("dedup_key", flat=True)) == ["lost"]
    assert len(mailoutbox) == 1
    fresh.refresh_from_db()
    assert fresh.expanded_at is None
    assert requeue_undelivered() == 0

    # Kept NOTIFICATION_EVENT_RETENTION_DAYS once expanded, then deleted; the notification
    # it made stays.
    settings.NOTIFICATION_EVENT_RETENTION_DAYS = 2
    NotificationEvent.objects.filter(pk=lost.pk).update(
        expanded_at=timezone.now() - timedelta(days=2) + timedelta(minutes=1)
    )
    requeue_undelivered()
    assert NotificationEvent.objects.filter(pk=lost.pk).exists()
    NotificationEvent.objects.filter(pk=lost.pk).update(
        expanded_at=timezone.now() - timedelta(days=2) - timedelta(minutes=1)
    )
    requeue_undelivered()
    assert not NotificationEvent.objects.filter(pk=lost.pk).exists()
    assert NotificationEvent.objects.filter(pk=fresh.pk).exists()
    assert Notification.objects.filter(dedup_key="lost").exists()
