"""P3's growth and P6's side effects.

Each changes the database for a while and puts it back: the grants are doubled and the
doubles deleted again; the referrals and notifications the measurements create are
deleted afterwards (their audit rows stay: the audit table refuses deletes, and a
synthetic dataset may keep them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, transaction

from agencies.models import Agency, User
from casework.models import Case, CaseAgencyGrant
from notifications.models import Notification, NotificationEvent
from notifications.services import notify
from referrals import services as referral_services
from referrals.models import Referral

from .measure import Timing, compare

# --- P3: double the grants ----------------------------------------------------------------

# A twin's reason id: the original's plus this, far above any real id, so twins are found
# (and removed) by reason id alone.
TWIN_OFFSET = 1_000_000_000_000


def _vacuum(table: str) -> None:
    """VACUUM ANALYZE (statistics, visibility map for index-only scans), then a CHECKPOINT
    so that writing out the pages the load dirtied does not fall on the next measurement
    (skipped where the role may not checkpoint)."""
    with connection.cursor() as cursor:
        cursor.execute(f'VACUUM (ANALYZE) "{table}"')
        try:
            with transaction.atomic():
                cursor.execute("CHECKPOINT")
        except DatabaseError:
            pass


TWIN_GROUP_PREFIX = "bench:twin-of-"


@contextmanager
def doubled_grants(say: Callable[[str], Any], *, new_holders: bool) -> Iterator[int]:
    """Every agency grant gets a twin, for another reason; removed again on the way out.

    ``new_holders``: each twin goes to a new group standing for an agency that joined the
    partnership and was given the same cases (the table doubles; what an existing user
    sees does not change). Otherwise each twin goes to the same agency for a second reason
    (every user's own grant rows double too, though they see the same cases).
    """
    table = CaseAgencyGrant._meta.db_table
    columns = (
        "expires_at, granted_at, content_object_id, granted_by_id, permission_id, reason_type_id"
    )
    started = time.monotonic()
    _remove_twins(table)
    with connection.cursor() as cursor:
        if new_holders:
            holders = Group.objects.filter(agency__isnull=False).values_list("pk", "name")
            twins = {
                old: Group.objects.create(name=f"{TWIN_GROUP_PREFIX}{name}"[:150]).pk
                for old, name in holders
            }
            mapping = ", ".join(f"({int(old)}, {int(new)})" for old, new in twins.items())
            cursor.execute(
                f'INSERT INTO "{table}" (reason_id, group_id, {columns}) '  # noqa: S608
                f"SELECT g.reason_id + %s, m.new, {columns} "
                f'FROM "{table}" g JOIN (VALUES {mapping}) AS m(old, new) ON g.group_id = m.old '
                "WHERE g.reason_id < %s",
                [TWIN_OFFSET, TWIN_OFFSET],
            )
        else:
            cursor.execute(
                f'INSERT INTO "{table}" (reason_id, group_id, {columns}) '  # noqa: S608
                f'SELECT reason_id + %s, group_id, {columns} FROM "{table}" WHERE reason_id < %s',
                [TWIN_OFFSET, TWIN_OFFSET],
            )
        added = cursor.rowcount
    _vacuum(table)
    say(f"  grants doubled: {added:,} twins in {time.monotonic() - started:.0f} s")
    try:
        yield added
    finally:
        _remove_twins(table)
        _vacuum(table)


def _remove_twins(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM "{table}" WHERE reason_id >= %s', [TWIN_OFFSET])  # noqa: S608
    Group.objects.filter(name__startswith=TWIN_GROUP_PREFIX).delete()


# --- P6: side effects ----------------------------------------------------------------------


def audit_switch(target: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Wrap a call so that it runs with ``target`` (an audit ``record``) doing nothing."""

    def without_audit(call: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with mock.patch(target, lambda *args, **kwargs: None):
                return call()

        return run

    return without_audit


def referral_with_and_without_notification(
    actor: User, case: Case, to_agency: Agency, *, runs: int
) -> list[Timing]:
    """``referral_send`` (its own transaction, committed) with its notifications to the
    receiving agency against the same with ``notify_agency`` doing nothing. The referrals
    and notifications made are deleted afterwards."""
    made: list[int] = []

    def send() -> None:
        referral = referral_services.referral_send(
            actor=actor,
            case=case,
            to_agency=to_agency,
            kind="casework_support",
            reason="Benchmark referral",
        )
        made.append(referral.pk)

    def send_quietly() -> None:
        with mock.patch.object(referral_services, "notify_agency", lambda **kwargs: []):
            send()

    try:
        return compare(
            {"referral with notifications": send, "referral without": send_quietly}, runs=runs
        )
    finally:
        ids = [str(pk) for pk in made]
        about = {"target_type": Referral._meta.label_lower, "target_id__in": ids}
        Notification.objects.filter(**about).delete()
        NotificationEvent.objects.filter(**about).delete()
        Referral.objects.filter(pk__in=made).delete()


@contextmanager
def celery_worker() -> Iterator[None]:
    """A real Celery worker on the configured Redis, idle, with emails kept in memory."""
    from config.celery import app

    app.control.purge()  # tasks queued by earlier measurements name deleted rows
    env = {
        **os.environ,
        "CONCORD_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    worker = subprocess.Popen(  # noqa: S603 (this interpreter, fixed arguments)
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel",
            "WARNING",
            "--concurrency",
            "1",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"bench-{uuid.uuid4().hex[:8]}@%h",
        ],
        cwd=settings.BASE_DIR,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("The Celery worker did not start.")
        yield
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def enqueue_to_start(recipient: User, target: Case, *, runs: int) -> Timing:
    """From the event's outbox row to the worker's claim on the notification it becomes,
    one at a time, on an idle worker; the rows are deleted afterwards."""
    timing = Timing("enqueue to start")
    prefix = f"bench:{uuid.uuid4().hex}:"
    try:
        with celery_worker():
            for n in range(runs + 3):
                with transaction.atomic():
                    event = notify(
                        recipients=[recipient],
                        kind="bench.ping",
                        target=target,
                        message="Benchmark notification",
                        url="/notifications/",
                        dedup_key=f"{prefix}{n}",
                    )
                row = _wait_for_claim(event.dedup_key)
                if n >= 3:  # the first ones warm the worker up
                    waited = row.claimed_at - event.created_at
                    timing.samples.append(waited.total_seconds() * 1000)
    finally:
        Notification.objects.filter(dedup_key__startswith=prefix).delete()
        NotificationEvent.objects.filter(dedup_key__startswith=prefix).delete()
    return timing


def _wait_for_claim(dedup_key: str, timeout: float = 30.0) -> Notification:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = Notification.objects.filter(dedup_key=dedup_key, claimed_at__isnull=False).first()
        if row is not None:
            return row
        time.sleep(0.002)
    raise RuntimeError(f"No worker claimed the notification of {dedup_key} in {timeout:.0f} s.")
