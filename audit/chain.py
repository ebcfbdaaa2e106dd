"""The tamper-evident audit trail: a hash chain over every row.

Each row, once sealed, carries ``chain_seq`` (its place in the chain: 1, 2, 3, …) and
``chain_hash`` = SHA-256 over the previous row's hash, its own place and a canonical form
of its content. Change a sealed row, remove one, or slip one in between, and every hash
from there on stops matching: ``verify`` names the first row where the chain breaks.

Why sealing after the commit, by one job, rather than in the INSERT: the chain's order
must be an order every verifier sees, and ids are handed out before commit, so a row
written by a long transaction can commit after rows with larger ids. Hashing inside each
request would also mean serialising every audited request on the chain's head. Instead a
beat task seals, every minute, the rows committed since, in id order, under an advisory
lock; a row from a transaction that commits later is simply sealed in a later run. The
append-only trigger lets exactly that through: the chain columns set once, nothing else.
The app role may not UPDATE the table at all (``audit.roles``): the sealer writes through
``audit_seal``, a function of the table's owner that sets only those two columns.

What it proves, and what it cannot: a hash chain is public arithmetic, so whoever can
write the table can recompute it after a change. That is why the head (place and hash)
is published every hour where the database owner cannot rewrite it (the log, and an email
to ``CONCORD_AUDIT_ANCHOR_EMAIL``): ``verify(anchor=...)`` then shows whether the chain
still leads to a head that was published. Rows not sealed yet (a minute's worth) are
protected by the trigger alone.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone

from .models import AuditEvent

logger = logging.getLogger("concord.audit.chain")

GENESIS = "0" * 64
CONTENT_FIELDS = (
    "id",
    "occurred_at",
    "actor_id",
    "actor_agency_id",
    "action",
    "target_type",
    "target_id",
    "case_id",
    "request_id",
    "ip_address",
    "detail",
)
# One sealer at a time, across processes (pg_try_advisory_xact_lock's key).
SEAL_LOCK = 0x436F6E63_41554454  # "ConcAUDT"


def _canonical(row: tuple[Any, ...]) -> bytes:
    """A row's content as bytes that mean one thing only: a JSON list in field order,
    times in UTC with microseconds, ``detail`` with its keys sorted."""
    values = list(row)
    occurred: datetime.datetime = values[1]
    values[1] = occurred.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link(previous: str, seq: int, row: tuple[Any, ...]) -> str:
    """The hash of the row at ``seq`` whose predecessor's hash is ``previous``."""
    digest = hashlib.sha256()
    digest.update(previous.encode())
    digest.update(b"|%d|" % seq)
    digest.update(_canonical(row))
    return digest.hexdigest()


def head() -> tuple[int, str]:
    """The last sealed row's place and hash ((0, GENESIS) for an empty chain)."""
    last = (
        AuditEvent.objects.filter(chain_seq__isnull=False)
        .order_by("-chain_seq")
        .values_list("chain_seq", "chain_hash")
        .first()
    )
    if last is None:
        return (0, GENESIS)
    seq, digest = last
    assert seq is not None  # only sealed rows, which carry their place
    return (seq, digest)


def seal(*, batch: int = 5000, limit: int | None = None) -> int:
    """Seal the rows committed and not sealed yet, oldest id first, ``batch`` per
    statement (at most ``limit`` in all). Returns how many; 0 when another sealer runs."""
    sealed = 0
    while limit is None or sealed < limit:
        size = batch if limit is None else min(batch, limit - sealed)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEAL_LOCK])
                if not cursor.fetchone()[0]:
                    return sealed
            seq, previous = head()
            rows = list(
                AuditEvent.objects.filter(chain_seq__isnull=True)
                .order_by("id")
                .values_list(*CONTENT_FIELDS)[:size]
            )
            if not rows:
                return sealed
            values = []
            for row in rows:
                seq += 1
                previous = link(previous, seq, row)
                values.append((row[0], seq, previous))
            _write_seals(values)
        sealed += len(rows)
    return sealed


def _write_seals(values: list[tuple[int, int, str]]) -> None:
    # Through audit_seal (migration 0004): the app role may not UPDATE the audit table.
    ids, seqs, hashes = (list(column) for column in zip(*values, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT audit_seal(%s::bigint[], %s::bigint[], %s::text[])", [ids, seqs, hashes]
        )
        written = cursor.fetchone()[0]
    if written != len(values):
        raise RuntimeError(f"audit_seal sealed {written} of {len(values)} rows; rolled back")


@dataclass
class Verdict:
    """What ``verify`` found: ``ok``, how many sealed rows it checked, and where the
    chain first broke (``problem`` names the row), plus the rows not sealed yet."""

    ok: bool
    checked: int
    head: tuple[int, str]
    problem: str = ""
    unsealed: int = 0


def _sealed_rows(chunk: int) -> Iterator[tuple[Any, ...]]:
    """Every sealed row in chain order, read in keyset pages (no long-held cursor)."""
    after = 0
    while True:
        page = list(
            AuditEvent.objects.filter(chain_seq__gt=after)
            .order_by("chain_seq")
            .values_list(*CONTENT_FIELDS, "chain_seq", "chain_hash")[:chunk]
        )
        if not page:
            return
        yield from page
        after = page[-1][-2]


def verify(
    *,
    anchor: tuple[int, str] | None = None,
    chunk: int = 20000,
    progress: Callable[[int], None] | None = None,
) -> Verdict:
    """Walk the chain from the start. Intact: every place from 1 up is there once, and
    every hash is what the row's content and its predecessor make. With ``anchor`` (a
    published head), the chain must also still hold that place with that hash."""
    expected, previous, checked = 1, GENESIS, 0
    anchor_seen = anchor is None
    for row in _sealed_rows(chunk):
        *content, seq, stored = row
        if seq != expected:
            return Verdict(
                False,
                checked,
                (expected - 1, previous),
                f"places {expected} to {seq - 1} of the chain are missing (rows removed, or "
                f"the chain renumbered); the next row present is id {content[0]} at {seq}",
            )
        if link(previous, seq, tuple(content)) != stored:
            return Verdict(
                False,
                checked,
                (expected - 1, previous),
                f"audit row id {content[0]} (place {seq}) does not match its hash: it was "
                "changed, or a row before it was changed, removed or inserted",
            )
        if anchor is not None and seq == anchor[0]:
            if stored != anchor[1]:
                return Verdict(
                    False,
                    checked,
                    (seq, stored),
                    f"the published head at place {seq} was {anchor[1]}, the chain now has "
                    f"{stored} there: it was rewritten",
                )
            anchor_seen = True
        previous, expected, checked = stored, expected + 1, checked + 1
        if progress is not None and checked % chunk == 0:
            progress(checked)
    unsealed = AuditEvent.objects.filter(chain_seq__isnull=True).count()
    if not anchor_seen:
        assert anchor is not None
        return Verdict(
            False,
            checked,
            (expected - 1, previous),
            f"the chain ends at place {expected - 1}, before the published head at "
            f"{anchor[0]}: rows were cut from its end",
            unsealed,
        )
    return Verdict(True, checked, (expected - 1, previous), "", unsealed)


def publish_head(*, send: Callable[..., Any] = send_mail) -> tuple[int, str]:
    """Seal what is waiting, then publish the head where the database owner cannot
    rewrite it: a log line always, an email when ``CONCORD_AUDIT_ANCHOR_EMAIL`` is set.
    Ids and hashes only: no personal data."""
    seal()
    seq, digest = head()
    when = timezone.now().isoformat(timespec="seconds")
    line = f"audit chain head: place {seq}, hash {digest}, at {when}"
    logger.warning(line)  # WARNING: kept by every log level a deployment might choose
    recipients: Iterable[str] = settings.AUDIT_ANCHOR_EMAIL
    if recipients:
        send(
            subject=f"Concord audit chain head {seq}",
            message=(
                f"{line}\n\nKeep this email. To check that the audit trail still leads "
                f"here: manage.py audit_verify --anchor {seq}:{digest}\n"
            ),
            from_email=None,
            recipient_list=list(recipients),
        )
    return seq, digest
