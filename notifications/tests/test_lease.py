"""A worker's claim on a notification is renewed while it sends, and only while it is ours.

The lease is short (a killed worker's notification is sent again soon) and kept alive by
``services._LeaseKeeper`` for as long as the worker is alive and sending (so a slow mail
server does not let a second worker send the same email)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from notifications import services
from notifications.models import Notification
from tests.real_worker import wait_for

pytestmark = pytest.mark.django_db

LEASE = timedelta(seconds=60)


def test_a_renewal_moves_our_claim_forward(caseworker, make_notification):
    claimed_at = timezone.now() - timedelta(seconds=50)
    notification = make_notification(caseworker, claimed_at=claimed_at, attempts=1)
    keeper = services._LeaseKeeper(notification.pk, claimed_at, LEASE)

    assert keeper.renew() is True
    notification.refresh_from_db()
    assert notification.claimed_at > claimed_at
    assert keeper.claimed_at == notification.claimed_at  # the new token
    # Renewed, it is no longer claimable by another worker when the old claim would lapse.
    later = claimed_at + LEASE + timedelta(seconds=1)
    assert not Notification.objects.claimable(now=later, lease=LEASE).exists()


def test_a_claim_taken_over_by_another_worker_is_not_renewed(caseworker, make_notification):
    ours = timezone.now() - timedelta(seconds=120)
    theirs = timezone.now()
    notification = make_notification(caseworker, claimed_at=theirs, attempts=2)
    keeper = services._LeaseKeeper(notification.pk, ours, LEASE)

    assert keeper.renew() is False
    notification.refresh_from_db()
    assert notification.claimed_at == theirs


def test_a_delivered_notification_is_not_renewed(caseworker, make_notification):
    claimed_at = timezone.now()
    notification = make_notification(
        caseworker, claimed_at=claimed_at, attempts=1, delivered_at=claimed_at
    )
    assert services._LeaseKeeper(notification.pk, claimed_at, LEASE).renew() is False


class SlowMailServer(EmailBackend):
    """Sends only once this worker has held its claim for longer than one lease, and
    records whether another worker could have taken the notification over by then."""

    seen: list[dict[str, Any]] = []

    def send_messages(self, messages: Any) -> int:
        first = Notification.objects.get().claimed_at
        assert first is not None
        lease = services.claim_lease()

        def renewed_past_one_lease() -> bool:
            at = Notification.objects.get().claimed_at
            return at is not None and at - first > lease

        wait_for("the claim renewed past one lease", renewed_past_one_lease)
        SlowMailServer.seen.append(
            {
                "claimable": Notification.objects.claimable(
                    now=first + lease + timedelta(milliseconds=1), lease=lease
                ).exists(),
            }
        )
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True)  # the keeper's thread commits on its own connection
def test_a_slow_send_keeps_the_claim_alive_and_stops_renewing_after(
    caseworker, make_notification, settings, mailoutbox
):
    settings.NOTIFICATION_CLAIM_LEASE_SECONDS = 1
    settings.EMAIL_BACKEND = f"{__name__}.SlowMailServer"
    SlowMailServer.seen = []
    notification = make_notification(caseworker)

    assert services.notification_deliver(notification_id=notification.pk) is True

    [seen] = SlowMailServer.seen
    assert seen["claimable"] is False  # a second worker could not have sent it too
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.delivered_at is not None and notification.attempts == 1
    # The keeper's thread is gone once the delivery is over.
    assert not [t for t in threading.enumerate() if t.name == f"lease-{notification.pk}"]
