"""Delete the synthetic partnership, and nothing else.

The synthetic rows are found by their markers (``vocab``): case references ``SYN-…``,
usernames ``synth-…``, agencies ``Synthetic Agency …`` with their groups ``agency:Synthetic
Agency …``, partnerships ``Synthetic Partnership …``. Everything that points at them is
found from the models' own foreign keys, so tables added later are covered: a row that
would cascade or is protected goes with what it points at, a SET_NULL column is cleared.
Django emulates ON DELETE in Python, which would load millions of rows; this does the
same walk in SQL, one DELETE per table and path, in one transaction.

The audit trail is append-only (a trigger refuses DELETE). Its synthetic history is
fabricated, not a record of anything that happened, and it holds PROTECT keys to the
synthetic users and agencies, so the reset removes it with the trigger disabled inside
the reset's own transaction: ALTER TABLE takes an exclusive lock on the audit table, so
no other session can write or delete audit rows until the trigger is back on at commit.
That needs the database role to own the table. Removing sealed rows would break the
audit trail's hash chain (``audit.chain``), so the reset unseals the rest for the sealer
to chain again from the start. The reset then appends one event saying what it removed.

The SQL is assembled from the models' metadata (quoted identifiers) and the constant
markers; the markers go in as parameters (hence the S608 waivers).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, models, transaction

from agencies.models import Agency, Partnership, User
from audit.models import AuditEvent
from audit.record import record
from casework.models import Case

from ..audit_actions import BenchAction
from . import vocab

AUDIT_TRIGGER = "audit_event_append_only"


@dataclass(frozen=True)
class Step:
    model: type[models.Model]
    sql: str
    params: tuple[Any, ...]
    clears: str = ""  # the column a SET_NULL step clears; "" for a DELETE


def roots() -> list[tuple[type[models.Model], str, tuple[Any, ...]]]:
    """The synthetic rows of each marked table, as (model, WHERE clause, params)."""
    quote = connection.ops.quote_name

    def like(model: type[models.Model], field: str, prefix: str) -> tuple[Any, ...]:
        column = model._meta.get_field(field).column
        return (model, f"{quote(column)} LIKE %s", (prefix + "%",))

    # Cases first: most rows hang off them, by the shortest paths.
    return [
        like(Case, "reference", vocab.CASE_PREFIX),
        like(User, "username", vocab.USERNAME_PREFIX),
        like(Partnership, "name", vocab.PARTNERSHIP_PREFIX),
        like(Agency, "name", vocab.AGENCY_PREFIX),
        like(Group, "name", vocab.GROUP_PREFIX),
    ]


def _incoming() -> dict[type[models.Model], list[tuple[type[models.Model], models.Field]]]:
    found: dict[type[models.Model], list[tuple[type[models.Model], models.Field]]] = defaultdict(
        list
    )
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is not None:
                target = field.related_model._meta.concrete_model
                found[target].append((model, field))
    return found


def plan() -> list[Step]:
    """Every statement of the reset, children before what they point at."""
    quote = connection.ops.quote_name
    incoming = _incoming()
    steps: list[Step] = []

    def walk(
        model: type[models.Model], where: str, params: tuple[Any, ...], path: tuple[type, ...]
    ) -> None:
        table = quote(model._meta.db_table)
        for referrer, field in incoming.get(model, []):
            if referrer is model or referrer in path:
                continue  # a self-reference goes in the same statement; no cycles
            column = quote(field.column)
            inner = (
                f"{column} IN (SELECT {quote(field.target_field.column)} "  # noqa: S608
                f"FROM {table} WHERE {where})"
            )
            if field.remote_field.on_delete is models.SET_NULL:
                steps.append(
                    Step(
                        referrer,
                        f"UPDATE {quote(referrer._meta.db_table)} SET {column} = NULL "  # noqa: S608
                        f"WHERE {inner}",
                        params,
                        clears=field.column,
                    )
                )
            else:
                walk(referrer, inner, params, (*path, model))
        steps.append(Step(model, f"DELETE FROM {table} WHERE {where}", params))  # noqa: S608

    # The fabricated audit history, including events about synthetic cases (case_id is
    # not a foreign key, so the walk would not find them).
    audit = quote(AuditEvent._meta.db_table)
    _, synthetic_cases, case_params = next(root for root in roots() if root[0] is Case)
    marker = (vocab.AUDIT_REQUEST_ID,)
    steps.append(Step(AuditEvent, f"DELETE FROM {audit} WHERE request_id = %s", marker))  # noqa: S608
    steps.append(
        Step(
            AuditEvent,
            f"DELETE FROM {audit} WHERE case_id IN "  # noqa: S608
            f"(SELECT id FROM {quote(Case._meta.db_table)} WHERE {synthetic_cases})",
            case_params,
        )
    )
    for model, where, params in roots():
        walk(model, where, params, ())
    return steps


def synthetic_data_exists() -> bool:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model, where, params in roots():
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {quote(model._meta.db_table)} WHERE {where})",  # noqa: S608
                params,
            )
            if cursor.fetchone()[0]:
                return True
    return False


def delete_synthetic(log: Callable[[str], None]) -> dict[str, int]:
    """Delete every synthetic row; returns the rows removed (or cleared) per model."""
    if not synthetic_data_exists():
        log("no synthetic data to delete")
        return {}
    started = time.monotonic()
    removed: dict[str, int] = defaultdict(int)
    audit_table = connection.ops.quote_name(AuditEvent._meta.db_table)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {audit_table} DISABLE TRIGGER {AUDIT_TRIGGER}")
            for step in plan():
                cursor.execute(step.sql, step.params)
                if cursor.rowcount:
                    key = step.model._meta.label + (
                        f" ({step.clears} cleared)" if step.clears else ""
                    )
                    removed[key] += cursor.rowcount
            # Removing sealed rows breaks the hash chain where they were: the
            # chain is unsealed and sealed again from the start. A reset is a rewrite by
            # the table's owner, which is what the published heads make evident elsewhere.
            cursor.execute(
                f"UPDATE {audit_table} SET chain_seq = NULL, chain_hash = '' "  # noqa: S608
                "WHERE chain_seq IS NOT NULL"
            )
            unsealed = cursor.rowcount
            cursor.execute(f"ALTER TABLE {audit_table} ENABLE TRIGGER {AUDIT_TRIGGER}")
            record(
                BenchAction.SYNTHETIC_RESET,
                actor=None,
                detail={"removed": dict(removed), "audit_chain_unsealed": unsealed},
            )
    except DatabaseError as error:
        raise CommandError(
            f"Could not delete the synthetic data ({error}). The reset disables the audit "
            "table's append-only trigger inside its transaction, which needs the database "
            "role to own audit_auditevent."
        ) from error
    deleted = sum(count for key, count in removed.items() if "cleared" not in key)
    log(f"deleted {deleted:,} synthetic rows in {time.monotonic() - started:.1f}s")
    return dict(removed)
