"""Celery tasks of casework: thin, take no personal data, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import case_tasks
from .evidence import break_glass
from .evidence import services as evidence_services


@shared_task(acks_late=True)
def expire_evidence_requests() -> int:
    """Every 15 minutes (beat): approvals past their end expire (their grants stopped
    counting at the end already); officers are told a few days before. Returns how many
    expired."""
    return evidence_services.evidence_requests_expire()


@shared_task(acks_late=True)
def remind_break_glass_reviewers() -> int:
    """Hourly (beat): a review duty whose tier has emptied falls to the next, whose
    people are told within the hour; the reviewers of every break-glass unreviewed after
    BREAK_GLASS_REVIEW_OVERDUE_HOURS are told again, once a day (the notification's dedup
    key names the day, so the day's other runs tell nobody twice); an event nobody can
    review is told to the system's administrators, once a day. Takes nothing; returns
    how many overdue events' reviewers were reminded."""
    return break_glass.break_glass_remind_reviewers()


@shared_task(acks_late=True)
def mark_cases_turning_adult() -> int:
    """Daily (beat), just after midnight: the people who turned 18 on an open case are
    adults now; the lead agency gets a task and is told (``case_tasks.cases_turning_adult``).
    Takes nothing; returns how many turned adult."""
    return case_tasks.cases_turning_adult()
