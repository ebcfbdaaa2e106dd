"""Celery tasks of the agencies app: thin interfaces that take ids and call the services."""

from __future__ import annotations

from celery import shared_task

from core import background

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_invitation(invitation_id: int) -> None:
    """Email a new member a link to choose their password (``services.invitation_send``).

    Takes the invitation's id and re-reads it; safe to run twice (the invitation is claimed
    and marked done). Published on the commit of the invite; one that was lost (the broker
    was down) is published again by ``requeue_invitations``.
    """
    services.invitation_send(invitation_id=invitation_id)


@shared_task(acks_late=True)
def requeue_invitations() -> int:
    """Every minute (beat): publish again the invitations not sent within
    ``services.INVITATION_GRACE`` (the broker was down, a worker died), at most 500 a run,
    oldest first. Returns how many were published."""
    ids = services.invitations_to_requeue(limit=500)
    return sum(background.publish(send_invitation, invitation_id) for invitation_id in ids)
