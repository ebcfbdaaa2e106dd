"""Celery tasks of the outbox: thin interfaces that take ids and call the services."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from core import background

from . import services


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def deliver_notification(notification_id: int) -> None:
    """Deliver one notification; idempotent, safe to run twice or at the same time.

    The message is acknowledged only after the task returns (``acks_late``) and put back
    if the worker process dies (``reject_on_worker_lost``). A mail server that refuses
    or cannot be reached is retried with backoff; the claim is released first. See
    ``services.notification_deliver`` for the claim and for the one remaining window
    (a worker killed between the SMTP send and recording it resends once, after the
    lease).
    """
    services.notification_deliver(notification_id=notification_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def expand_notification_event(event_id: int) -> None:
    """Expand one event into a notification per person, then deliver them one by one.

    A notification whose delivery fails (its claim released by the service) is handed to
    ``deliver_notification``, which retries it alone with backoff; the others go on. A
    worker killed half way puts the message back (``acks_late``); the event is expanded
    once and delivered rows are skipped by their claim, so nobody is told twice.
    """
    for notification_id in services.notification_event_expand(event_id=event_id):
        try:
            services.notification_deliver(notification_id=notification_id)
        except (SMTPException, OSError):
            # Its claim was released: with the broker down, beat's requeue retries it.
            background.publish(deliver_notification, notification_id)


@shared_task(acks_late=True)
def requeue_undelivered() -> int:
    """Every minute (beat): re-queue what a lost task left (worker killed, broker
    restarted, a web process gone before publishing): events not expanded after 30 s, and
    notifications undelivered after 30 s, unclaimed or claimed longer ago than the lease.
    Ids only, at most 500 of each a run; returns how many were queued (none while the
    broker is down: the next run tries again). Also deletes
    events expanded more than a week ago."""
    events = services.events_to_requeue(limit=500)
    published = sum(background.publish(expand_notification_event, event_id) for event_id in events)
    ids = services.notifications_to_requeue(limit=500)
    published += sum(
        background.publish(deliver_notification, notification_id) for notification_id in ids
    )
    services.events_purge()
    return published
