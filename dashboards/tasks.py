"""Celery tasks of the dashboards: thin interfaces that take ids and call ``exports``."""

from __future__ import annotations

from celery import shared_task

from core import background

from . import exports


@shared_task(acks_late=True, reject_on_worker_lost=True)
def build_export(job_id: int) -> None:
    """Build one export job (a ZIP of every table's CSV). Safe to run twice: the job is
    claimed with a conditional UPDATE, and a finished job is left as it is. A worker
    killed half way puts the message back; the next one claims the job once its lease
    has passed."""
    exports.export_build(job_id=job_id)


@shared_task(acks_late=True)
def requeue_exports() -> int:
    """Every minute (beat): publish again the export jobs whose message was lost (the
    broker was down, a worker died), at most 500 a run; returns how many were published."""
    ids = exports.exports_to_requeue(limit=500)
    return sum(background.publish(build_export, job_id) for job_id in ids)


@shared_task(acks_late=True)
def purge_expired_exports() -> int:
    """Beat: delete the files of exports past their ``expires_at``; returns how many."""
    return exports.exports_purge()
