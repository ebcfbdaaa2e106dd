"""Beat tasks of the referrals app: thin, idempotent, taking no arguments but the clock."""

from __future__ import annotations

from celery import shared_task

from casework.transfers import transfers_end_outside_partnerships

from . import nrm_services, services


@shared_task(acks_late=True)
def flag_overdue_referrals() -> int:
    return services.referrals_flag_overdue()


@shared_task(acks_late=True)
def expire_referrals() -> int:
    return services.referrals_expire()


@shared_task(acks_late=True)
def nrm_deadline_reminders() -> int:
    return nrm_services.nrm_send_deadline_reminders()


@shared_task(acks_late=True)
def end_sharing_outside_partnerships() -> dict[str, int]:
    """Hourly (beat): what accepted and completed referrals and proposed lead transfers
    granted, between agencies that no longer share a partnership in force (with each
    other or with the case's lead agency), is taken back, and both agencies are told.
    Takes nothing; safe to run twice; returns how many of each it ended."""
    return {
        "referrals": services.sharing_end_outside_partnerships(),
        "transfers": transfers_end_outside_partnerships(),
    }
