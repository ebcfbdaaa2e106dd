"""Celery tasks of intelligence: thin interfaces that take ids and call the services."""

from __future__ import annotations

from celery import shared_task

from core import background

from . import matching


@shared_task(acks_late=True, reject_on_worker_lost=True)
def match_report(job_id: int) -> int:
    """Do one matching job: match its report against the reports as they are now, both
    sides' matches, audit and notifications in one transaction (``matching.report_match``).

    Published on the commit of the submit (or of the change of a submitted report's
    entities) that wrote the job. Safe to run twice or at the same time: the job is
    claimed under a row lock and marked done with the matches. The message is
    acknowledged only after the task returns (``acks_late``) and put back if the worker
    dies (``reject_on_worker_lost``); a lost one is published again by
    ``requeue_matching``. Returns how many matches were made.
    """
    return len(matching.report_match(job_id=job_id))


@shared_task(acks_late=True)
def requeue_matching() -> int:
    """Every minute (beat): publish again the matching jobs not done within
    ``matching.MATCHING_GRACE`` (the broker or the worker was down, a web process died
    before publishing), at most 500 a run, oldest first; delete jobs done more than a
    week ago. Returns how many were published (none while the broker is down)."""
    jobs = matching.matching_jobs_to_requeue(limit=500)
    published = sum(background.publish(match_report, job_id) for job_id in jobs)
    matching.matching_jobs_purge()
    return published
