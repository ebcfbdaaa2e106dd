"""The one way Concord queues a background job: a nudge about a durable row.

Every background job's work is a row committed in the transaction that asked for it (a
``NotificationEvent``, an intelligence ``MatchingJob``, a dashboard ``ExportJob``, an
``Invitation``), and a beat task publishes again every row still not done a little while
later. Publishing a message to the broker is therefore only a nudge that gets the work
started at once: when the broker (Redis) is down, the nudge is logged and dropped, the
request that wrote the row still succeeds, and beat's re-queue does the work once the
broker is back. Nothing may call a task's ``.delay`` / ``.apply_async`` but this module
(``core/tests/test_background_path.py`` fails on any other call site).

Messages carry ids only (ints): never a model instance, never personal data.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from django.db import transaction
from kombu.exceptions import KombuError

logger = logging.getLogger(__name__)


class Task(Protocol):
    """What is needed of a Celery task here (celery ships no types)."""

    name: str

    def delay(self, *args: Any) -> Any: ...


def _check_ids(ids: tuple[int, ...]) -> None:
    if not all(type(value) is int for value in ids):
        raise TypeError("A background job takes ids (ints) only, never objects or personal data.")


def publish(task: Task, *ids: int) -> bool:
    """Queue ``task(*ids)`` now; True if the broker took it.

    A broker that cannot be reached (kombu wraps every transport error in a
    ``KombuError``) is logged as a warning and answered False, never raised: the caller's
    row is committed and its beat re-queue publishes it again. With Celery eager (the unit
    tests) the task runs here, and its own errors propagate.
    """
    _check_ids(ids)
    try:
        task.delay(*ids)
    except KombuError:
        logger.warning(
            "Could not queue %s%s: the broker is unreachable; beat will queue it again.",
            task.name,
            ids,
            exc_info=True,
        )
        return False
    return True


def publish_on_commit(task: Task, *ids: int) -> None:
    """Queue ``task(*ids)`` once the current transaction commits (at once outside one).

    Call it in the transaction that wrote the job's durable row, and only for a row that a
    beat task re-queues until it is done: this publish may be lost (broker down, process
    killed after the commit) and nothing else would ever do the work.
    """
    _check_ids(ids)

    def publish_job() -> None:
        publish(task, *ids)

    transaction.on_commit(publish_job)
