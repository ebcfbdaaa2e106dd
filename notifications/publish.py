"""Publishing an event's task to the broker, off the request's path.

``notify`` runs ``expand_later`` on commit. Publishing one Celery message to Redis costs
0.7 ms or more, as much as writing the event: a request that made a referral paid twice
the time to tell the receiving agency. So each process hands event ids to
one background thread that publishes them, and the request goes on.

Nothing is lost if the process dies with ids still in hand: the event rows are committed
and beat's ``requeue_undelivered`` publishes any event not expanded after 30 seconds. At
a normal exit the thread is drained first. With Celery in eager mode (the unit tests) the
task runs at once, in the caller's thread and transaction context.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading

logger = logging.getLogger(__name__)

_pending: queue.SimpleQueue[int | None] = queue.SimpleQueue()
_lock = threading.Lock()
_thread: threading.Thread | None = None
_owner_pid: int | None = None


def expand_later(event_id: int) -> None:
    """Queue the task that expands and delivers this (committed) event."""
    from .tasks import expand_notification_event

    if expand_notification_event.app.conf.task_always_eager:
        _publish(event_id)
        return
    _ensure_thread()
    _pending.put(event_id)


def _publish(event_id: int) -> None:
    from core import background

    from .tasks import expand_notification_event

    background.publish(expand_notification_event, event_id)


def _run() -> None:
    while True:
        event_id = _pending.get()
        if event_id is None:
            return
        try:
            _publish(event_id)
        except Exception:
            # Beat's requeue publishes it again once the broker is back.
            logger.exception(
                "Could not queue notification event %s; it will be re-queued.", event_id
            )


def _ensure_thread() -> None:
    """One publisher thread per process (a forked child starts its own)."""
    global _thread, _owner_pid, _pending
    if _thread is not None and _owner_pid == os.getpid() and _thread.is_alive():
        return
    with _lock:
        if _thread is not None and _owner_pid == os.getpid() and _thread.is_alive():
            return
        if _owner_pid != os.getpid():
            _pending = queue.SimpleQueue()  # a parent's queue is not this process's
        _owner_pid = os.getpid()
        _thread = threading.Thread(target=_run, name="concord-notification-publisher", daemon=True)
        _thread.start()


def flush(timeout: float = 10.0) -> None:
    """Publish what is in hand and stop the thread (at exit; tests)."""
    global _thread
    thread = _thread
    if thread is None or _owner_pid != os.getpid() or not thread.is_alive():
        return
    _pending.put(None)
    thread.join(timeout)
    _thread = None


atexit.register(flush)
