"""Beat tasks of the referrals app: thin, idempotent, taking no arguments but the clock."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def flag_overdue_referrals() -> int:
    return services.referrals_flag_overdue()


@shared_task(acks_late=True)
def expire_referrals() -> int:
    return services.referrals_expire()


@shared_task(acks_late=True)
def nrm_deadline_reminders() -> int:
    return services.nrm_send_deadline_reminders()
