"""How the batches reach the database quickly, and how we know they are sound.

Two things cost most in a bulk load here: the per-row foreign-key triggers (Django's
constraints are DEFERRABLE INITIALLY DEFERRED, so every row queues a check that runs at
commit) and the wait while the server updates the indexes. So:

- a batch's transaction may run with ``session_replication_role = replica``, which skips
  the per-row constraint triggers, when the role may set it and no table being loaded
  has an INSERT trigger of its own (that would be skipped too); every foreign key of the
  loaded tables is then checked set-based after the load (``orphans``), and the load
  fails loudly if any row points nowhere;
- batches are written by a second thread, on its own connection, while the main thread
  draws the next one: Python on one core, PostgreSQL on the other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import DatabaseError, connection, connections, models, transaction

from .pgcopy import Table

TRIGGER_TYPE_INSERT = 1 << 2  # pg_trigger.tgtype bit
Batch = list[tuple[Table, bytes]]


def insert_triggers(tables: Iterable[str]) -> list[str]:
    """User-defined INSERT triggers on ``tables`` (the constraint triggers are internal)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname || '.' || t.tgname
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE NOT t.tgisinternal AND c.relname = ANY(%s) AND (t.tgtype & %s) <> 0
            ORDER BY 1
            """,
            [list(tables), TRIGGER_TYPE_INSERT],
        )
        return [row[0] for row in cursor.fetchall()]


def may_set(name: str, value: str) -> str:
    """ "" if this role may SET the parameter to the value, else the database's refusal."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL {name} = {value}")
    except DatabaseError as error:
        return str(error).strip() or type(error).__name__
    return ""


def batch_settings(tables: Iterable[str], *, skip_row_checks: bool) -> tuple[dict[str, str], str]:
    """The session settings for the batches' transactions, and a word on what was left out.

    - ``synchronous_commit = off``: a crash could lose the last batches, which --reset
      and a new run put right; any role may set it.
    - ``wal_compression``: smaller full-page images after each checkpoint (a large load
      triggers many); superusers only, harmless.
    - ``session_replication_role = replica``: no per-row foreign-key checks (verified
      set-based afterwards by ``orphans``); only without INSERT triggers of our own.
    """
    chosen = {"synchronous_commit": "off"}
    notes = []
    if not may_set("wal_compression", "lz4"):
        chosen["wal_compression"] = "lz4"
    elif not may_set("wal_compression", "on"):
        chosen["wal_compression"] = "on"
    if not skip_row_checks:
        notes.append("foreign keys checked row by row, as asked")
    elif found := insert_triggers(tables):
        notes.append(f"foreign keys checked row by row: INSERT triggers {', '.join(found)}")
    elif refusal := may_set("session_replication_role", "replica"):
        notes.append(f"foreign keys checked row by row: {refusal}")
    else:
        chosen["session_replication_role"] = "replica"
    return chosen, "; ".join(notes)


def orphans(models_: Iterable[type[models.Model]]) -> list[str]:
    """Foreign keys of these models whose value matches no row: "table.column: count"."""
    quote = connection.ops.quote_name
    problems = []
    with connection.cursor() as cursor:
        for model in models_:
            for field in model._meta.concrete_fields:
                if not field.is_relation or field.related_model is None or not field.db_constraint:
                    continue
                child, column = quote(model._meta.db_table), quote(field.column)
                parent = quote(field.related_model._meta.db_table)
                target = quote(field.target_field.column)
                cursor.execute(
                    f"SELECT count(*) FROM {child} c WHERE c.{column} IS NOT NULL "  # noqa: S608 - names from model metadata
                    f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.{target} = c.{column})"
                )
                count = cursor.fetchone()[0]
                if count:
                    problems.append(f"{model._meta.db_table}.{field.column}: {count}")
    return problems


class BatchWriter:
    """Writes batches, each in one transaction, one batch in flight at a time.

    A batch arrives encoded (the caller's thread does the Python work), so with
    ``background`` the writing thread mostly waits on the server with the GIL released
    while the caller draws the next batch. That thread has a connection of its own, which
    needs the earlier phases committed: not inside an outer transaction. Errors surface on
    the next ``submit`` or on ``finish``.
    """

    def __init__(self, *, settings: dict[str, str], background: bool) -> None:
        self.settings = settings
        self.executor = ThreadPoolExecutor(max_workers=1) if background else None
        self.pending: Future[None] | None = None

    def _flush(self, batch: Batch, done: Callable[[float], None]) -> None:
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            for name, value in self.settings.items():
                cursor.execute(f"SET LOCAL {name} = {value}")
            for table, data in batch:
                table.copy_encoded(data)
        done(time.monotonic() - started)

    def submit(self, batch: Batch, done: Callable[[float], None]) -> None:
        if self.executor is None:
            self._flush(batch, done)
            return
        self.wait()
        self.pending = self.executor.submit(self._flush, batch, done)

    def wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def finish(self) -> None:
        if self.executor is None:
            return
        try:
            self.wait()
        finally:
            # The thread's connection is its own: close it there, then stop the thread.
            self.executor.submit(_close_thread_connection).result()
            self.executor.shutdown()


def _close_thread_connection() -> None:
    assert threading.current_thread() is not threading.main_thread()
    connections.close_all()
