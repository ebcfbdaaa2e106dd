"""Celery tasks of casework: thin, take no personal data, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import evidence


@shared_task(acks_late=True)
def expire_evidence_requests() -> int:
    """Every 15 minutes (beat): approvals past their end expire (their grants stopped
    counting at the end already); officers are told a few days before. Returns how many
    expired."""
    return evidence.evidence_requests_expire()
