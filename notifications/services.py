"""Writes of the notification outbox: notify, expand, deliver, mark read.

Producers (referrals, casework deadlines...) call ``notify`` or ``notify_agency`` inside
the transaction that makes the event; its one row commits or rolls back with it, and the
task that expands and delivers it is queued only once it has committed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from contextlib import suppress
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage, get_connection
from django.db import DatabaseError, connection, connections, models, transaction
from django.db.models import F
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import Truncator

from agencies.models import Agency, Membership, User

from . import publish
from .models import Notification, NotificationEvent

logger = logging.getLogger(__name__)

# A row whose on-commit task has not claimed it within this long is presumed lost.
REQUEUE_GRACE = timedelta(seconds=30)


def claim_lease() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATION_CLAIM_LEASE_SECONDS)


def _check_link(url: str) -> None:
    # A path on this site only: no scheme, no host, nothing a browser reads as "//host".
    if (
        not url.startswith("/")
        or any(c.isspace() for c in url)
        or not url_has_allowed_host_and_scheme(url, allowed_hosts=None)
    ):
        raise ValueError(f"A notification links to a path in Concord, not {url!r}.")


def _one_line(message: str) -> str:
    # The message is also the email's subject: one line (no header can be smuggled in),
    # and shortened rather than refused, so a long agency name cannot undo the event.
    line = " ".join(str(message).split())
    if not line:
        raise ValueError("A notification needs a message.")
    max_length = Notification._meta.get_field("message").max_length or len(line)
    return Truncator(line).chars(max_length)


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise TransactionManagementError(
            "notify() must run inside the transaction that makes the event."
        )


def _event(
    *, kind: str, target: models.Model, message: str, url: str, dedup_key: str, **audience: Any
) -> NotificationEvent:
    _check_link(url)
    event = NotificationEvent.objects.create(
        kind=kind,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        message=_one_line(message),
        url=url,
        dedup_key=dedup_key,
        **audience,
    )
    transaction.on_commit(partial(publish.expand_later, event.pk))
    return event


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    target: models.Model,
    message: str,
    url: str,
    dedup_key: str,
) -> NotificationEvent | None:
    """Tell these people about an event: one outbox row now, one notification each later.

    Rules: call it inside the transaction that makes the event (it refuses otherwise),
    so the event commits or rolls back with it; ``message`` carries no personal data (it
    becomes an email subject; it is made one line and cut to 200 characters); ``url`` is
    a path in Concord; the same ``dedup_key`` never makes a second notification for the
    same person; inactive users are skipped; tasks get ids only.

    The request writes one row and nothing else: after the commit, a worker expands the
    event into a notification per person and delivers them (``notification_event_expand``).
    Returns the event, or None when nobody is to be told.
    """
    _require_transaction()
    people = sorted({user.pk for user in recipients if user.is_active})
    if not people:
        return None
    return _event(
        kind=kind,
        target=target,
        message=message,
        url=url,
        dedup_key=dedup_key,
        recipient_ids=people,
    )


def notify_agency(
    *,
    agency: Agency,
    roles: Iterable[str] | None,
    kind: str,
    target: models.Model,
    message: str,
    url: str,
    dedup_key: str,
) -> NotificationEvent | None:
    """``notify`` the active members of an active ``agency`` (only ``roles``, if given).

    Who they are is worked out when the event is expanded, a moment after the commit.
    """
    _require_transaction()
    role_list = sorted(set(roles)) if roles is not None else []
    if not agency.active or (roles is not None and not role_list):
        return None
    return _event(
        kind=kind,
        target=target,
        message=message,
        url=url,
        dedup_key=dedup_key,
        agency=agency,
        roles=role_list,
    )


def _audience(event: NotificationEvent) -> list[int]:
    if event.agency_id is not None:
        members = Membership.objects.filter(
            agency_id=event.agency_id, agency__active=True, user__is_active=True
        )
        if event.roles:
            members = members.filter(role__in=event.roles)
        return list(members.values_list("user_id", flat=True))
    return list(
        User.objects.filter(pk__in=event.recipient_ids, is_active=True).values_list("pk", flat=True)
    )


def notification_event_expand(*, event_id: int) -> list[int]:
    """One notification per person the event reaches; returns the ids left to deliver.

    Idempotent and safe to run twice at once: the event is locked (a second run skips
    it), each person gets at most one row per ``dedup_key``, and the event is marked
    expanded in the same transaction as the rows.
    """
    with transaction.atomic():
        event = (
            NotificationEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=event_id, expanded_at__isnull=True)
            .first()
        )
        if event is None:
            return []  # expanded already, gone, or being expanded by another worker
        people = _audience(event)
        Notification.objects.bulk_create(
            [
                Notification(
                    recipient_id=pk,
                    kind=event.kind,
                    target_type=event.target_type,
                    target_id=event.target_id,
                    message=event.message,
                    url=event.url,
                    dedup_key=event.dedup_key,
                    created_at=event.created_at,
                )
                for pk in people
            ],
            ignore_conflicts=True,  # INSERT ... ON CONFLICT DO NOTHING on (recipient, dedup_key)
        )
        event.expanded_at = timezone.now()
        event.save(update_fields=["expanded_at"])
        return list(
            Notification.objects.filter(
                dedup_key=event.dedup_key, recipient_id__in=people, delivered_at__isnull=True
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def notification_mark_read(*, actor: Any, notification: Notification) -> Notification:
    """Only the recipient marks a notification read; the first reading time is kept."""
    if actor is None or not actor.is_authenticated or notification.recipient_id != actor.pk:
        raise PermissionDenied("Only its recipient may mark a notification read.")
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_all_read(*, actor: Any) -> int:
    """Mark every unread notification of ``actor`` read; returns how many were unread."""
    return Notification.objects.for_recipient(actor).unread().update(read_at=timezone.now())


def notifications_withdraw(*, kind: str, dedup_keys: Iterable[str]) -> int:
    """Take back what its audience may no longer be told (an intelligence match whose
    other report they may no longer read): the events with these keys, expanded or not,
    and everyone's notifications with them, read or unread. Returns how many
    notifications went. An email already sent stays sent; a delivery task finds its row
    gone and does nothing.

    The events go first: an expansion running now holds its event's row lock, so the
    delete waits for it to commit, and the notifications it wrote go in the next
    statement; an expansion starting later finds the event locked or gone.
    """
    keys = sorted(set(dedup_keys))
    if not keys:
        return 0
    NotificationEvent.objects.filter(kind=kind, dedup_key__in=keys).delete()
    deleted, _ = Notification.objects.filter(kind=kind, dedup_key__in=keys).delete()
    return deleted


# --- Delivery (run by notifications.tasks.deliver_notification) ------------------------


def _pause_for_tests() -> None:
    # Test-only: config/settings_test.py sets this setting (from
    # CONCORD_TEST_DELIVERY_PAUSE_SECONDS) so a test can kill a real worker while it
    # holds a claim and has not sent yet; everywhere else it is 0.
    seconds = settings.NOTIFICATION_TEST_DELIVERY_PAUSE_SECONDS
    if seconds:
        time.sleep(seconds)


def _send_email(notification: Notification, lease: timedelta) -> None:
    # The subject and body hold the message and a link, nothing else: an email leaves
    # Concord's access control, so the details stay behind the link.
    # A socket timeout: a mail server that stops answering fails the send (the claim is
    # released and the task retries) instead of holding a renewed claim for ever.
    timeout = max(1.0, min(60.0, lease.total_seconds() / 2))
    EmailMessage(
        subject=f"Concord: {notification.message}",
        body=(
            f"{notification.message}\n\n"
            f"Open Concord to see it: {settings.CONCORD_BASE_URL}{notification.url}"
        ),
        to=[notification.recipient.email],
        headers={"Message-ID": message_id(notification)},
        connection=get_connection(timeout=timeout),
    ).send()


def message_id(notification: Notification) -> str:
    """The email's Message-ID: the same every time this notification is sent, so that if
    a worker dies between the mail server's accept and ``email_sent_at`` and the email
    goes again, mail systems that collapse repeats show it once. Made of the row's id and
    its creation time (unique even if ids restart after a restore) and the installation's
    host; nothing about the person."""
    host = urlsplit(settings.CONCORD_BASE_URL).hostname or "localhost"
    created = int(notification.created_at.timestamp() * 1_000_000)
    return f"<concord.notification.{notification.pk}.{created}@{host}>"


class _LeaseKeeper:
    """Keeps a worker's claim on a notification alive while it delivers it.

    The claim is a timestamp: a row claimed longer ago than the lease is free for any
    worker. A fixed long lease (it was 300 s) made a killed worker's notification wait
    five minutes or more; a short fixed one would let a second worker send while a slow
    mail server still holds the first. So the lease is short (60 s by default) and a
    thread moves the claim forward every third of it for as long as this worker is alive
    and sending. A worker that dies stops renewing, and its claim lapses within one lease.

    ``claimed_at`` is the claim's token: each renewal is one conditional UPDATE (still
    ours, still undelivered), so a claim another worker has taken over is never renewed.
    The thread uses a database connection of its own and closes it when it stops.
    """

    def __init__(self, notification_id: int, claimed_at: datetime, lease: timedelta) -> None:
        self.notification_id = notification_id
        self.claimed_at = claimed_at
        self.interval = lease.total_seconds() / 3
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"lease-{notification_id}", daemon=True
        )

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                if not self.renew():
                    return  # delivered, released or taken over: nothing left to keep
        finally:
            connections.close_all()  # this thread's own connections

    def renew(self) -> bool:
        renewed_at = timezone.now()
        try:
            kept = Notification.objects.filter(
                pk=self.notification_id, claimed_at=self.claimed_at, delivered_at__isnull=True
            ).update(claimed_at=renewed_at)
        except DatabaseError:
            logger.warning(
                "Could not renew the claim on notification %s; retrying.", self.notification_id
            )
            return True
        if kept:
            self.claimed_at = renewed_at
        return bool(kept)


def notification_deliver(*, notification_id: int) -> bool:
    """Deliver one notification (email, then mark delivered); True if this call did it.

    Safe to run twice or concurrently: the row is claimed with ONE conditional UPDATE
    (undelivered, and unclaimed or its claim older than the lease), so of two workers
    only one proceeds; a finished row is never claimed again; ``email_sent_at`` is
    written right after the send, so a retry after a later failure does not resend.
    While it works the claim is renewed (``_LeaseKeeper``), so a slow mail server does
    not let the claim lapse, and a killed worker's claim lapses within one lease.
    On an error the claim is released, so the task's own retry can claim it at once.

    The remaining window, honestly: a worker killed after the mail server accepted the
    email but before ``email_sent_at`` was committed leaves a claim that lapses after
    the lease; beat's next requeue (every minute) then sends the email a second time,
    with the same ``Message-ID``. Nothing is ever lost; at most one duplicate email in
    that narrow case (measured in docs/reliability.md).
    """
    now = timezone.now()
    lease = claim_lease()
    claimed = (
        Notification.objects.claimable(now=now, lease=lease)
        .filter(pk=notification_id)
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False  # delivered already, gone, or another worker holds a live claim
    keeper = _LeaseKeeper(notification_id, now, lease)
    try:
        with keeper:
            _pause_for_tests()
            notification = Notification.objects.select_related("recipient").get(pk=notification_id)
            recipient = notification.recipient
            if notification.email_sent_at is None and recipient.is_active and recipient.email:
                _send_email(notification, lease)
                Notification.objects.filter(pk=notification_id).update(email_sent_at=timezone.now())
        Notification.objects.filter(pk=notification_id).update(delivered_at=timezone.now())
    except Exception:
        with suppress(DatabaseError):
            Notification.objects.filter(pk=notification_id, claimed_at=keeper.claimed_at).update(
                claimed_at=None
            )
        raise
    return True


def events_to_requeue(*, limit: int = 500) -> list[int]:
    """Ids of events not expanded REQUEUE_GRACE after they were made: their task was lost
    (the process died before publishing it, or the broker lost it)."""
    return list(
        NotificationEvent.objects.filter(
            expanded_at__isnull=True, created_at__lt=timezone.now() - REQUEUE_GRACE
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def events_purge(*, limit: int = 5000) -> int:
    """Delete events expanded longer ago than NOTIFICATION_EVENT_RETENTION_DAYS (at most
    ``limit``): they answer "was anyone told?"; each person's notifications stay."""
    cutoff = timezone.now() - timedelta(days=settings.NOTIFICATION_EVENT_RETENTION_DAYS)
    expired = NotificationEvent.objects.filter(expanded_at__lt=cutoff)
    old = expired.values_list("pk", flat=True)[:limit]
    deleted, _ = NotificationEvent.objects.filter(pk__in=list(old)).delete()
    return deleted


def notifications_to_requeue(*, limit: int = 500) -> list[int]:
    """Ids of undelivered rows whose task is presumed lost (oldest first, at most ``limit``)."""
    now = timezone.now()
    max_attempts = settings.NOTIFICATION_MAX_ATTEMPTS
    stuck = Notification.objects.filter(
        delivered_at__isnull=True, attempts__gte=max_attempts
    ).count()
    if stuck:
        logger.error(
            "%d notifications were not delivered after %d attempts; see the admin.",
            stuck,
            max_attempts,
        )
    return list(
        Notification.objects.stale(now=now, lease=claim_lease(), grace=REQUEUE_GRACE)
        .filter(attempts__lt=max_attempts)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
