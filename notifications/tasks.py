"""Celery tasks of the outbox: thin interfaces that take ids and call the services."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

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


@shared_task(acks_late=True)
def requeue_undelivered() -> int:
    """Every minute (beat): re-queue rows whose task was lost (worker killed, broker
    restarted): undelivered, older than 30 s, unclaimed or claimed longer ago than the
    lease. Ids only, at most 500 a run; returns how many were queued."""
    ids = services.notifications_to_requeue(limit=500)
    for notification_id in ids:
        deliver_notification.delay(notification_id)
    return len(ids)
