"""What every part of the synthetic drawing shares: one random stream drawn in a fixed
order, the plan of agencies, the case being drawn, and the rows with their audit trail.

``Generator`` (``generate``) sets the state up and calls the parts in order; each part
(``people``, ``cases``, ``referrals``, ``case_records``) is a mixin of it that draws one
kind of row. The order of the draws is what makes a seed give the same data: a part never
draws for another.
"""

from __future__ import annotations

import datetime
import math
import random
import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import accumulate
from typing import Any

from . import vocab
from .pgcopy import IdPool, RawJSON, Table
from .sizes import Sizes

DAY = 86_400
HISTORY_DAYS = 3 * 365


class Picker:
    """A weighted choice that costs one ``random()`` and a bisect."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        pairs = [(item, w) for item, w in zip(items, weights, strict=True) if w > 0]
        self.items = [item for item, _ in pairs]
        self.cum = list(accumulate(w for _, w in pairs))
        self.total = self.cum[-1] if self.cum else 0.0

    @classmethod
    def of(cls, weighted: Sequence[tuple[Any, float]]) -> Picker:
        return cls([item for item, _ in weighted], [w for _, w in weighted])

    def __bool__(self) -> bool:
        return bool(self.items)

    def __call__(self, rng: random.Random) -> Any:
        return self.items[bisect_right(self.cum, rng.random() * self.total)]


def how_many(rng: random.Random, mean: float) -> int:
    """0..2·mean, uniformly: mean ``mean``, with cases that have none and cases with many."""
    return int(rng.random() * (math.floor(2 * mean) + 1)) if mean > 0 else 0


@dataclass
class AgencyPlan:
    number: int
    name: str
    kind: str
    region: str
    partnerships: list[int]
    lead_weight: float
    receive_weight: float
    tiny: bool = False
    id: int = 0
    group_id: int = 0
    care: list[int] = field(default_factory=list)
    answerers: list[int] = field(default_factory=list)
    users: list[tuple[int, str]] = field(default_factory=list)  # (user id, role)


@dataclass
class CaseDraft:
    """What the parts of one case being drawn need to know about it."""

    id: int
    number: int
    lead: AgencyPlan
    worker: int  # the lead caseworker: opens the case and records most of it
    opened: datetime.datetime
    closed_at: datetime.datetime | None
    is_child: bool
    language: str
    region: str
    exploited_as_child: bool  # as a child, whatever their age now
    end: datetime.datetime  # when it closed, or the anchor: nothing happens after it


Rows = dict[Table, list[tuple[Any, ...]]]


@dataclass
class Progress:
    log: Callable[[str], None]
    started: float = field(default_factory=time.monotonic)

    def __call__(self, message: str) -> None:
        self.log(f"[{time.monotonic() - self.started:7.1f}s] {message}")


class Drawing:
    """The state the parts share (set by ``Generator``) and the helpers they all use."""

    sizes: Sizes
    rng: random.Random
    anchor: datetime.datetime
    password: str
    progress: Progress
    counts: dict[str, int]
    agencies: list[AgencyPlan]
    user_agency: dict[int, int]  # user id -> agency id, for the audit rows' actor agency
    # Looked up once (``Generator._lookups``), with the audit table every part writes to.
    t_audit: Table
    ct_lead: int
    ct_referral: int
    ct_consent: int
    lead_perm_ids: list[int]
    lead_grant_detail: str
    view_case_id: int
    referral_perms: dict[str, list[str]]
    referral_perm_ids: dict[str, list[int]]
    identity_perm_id: int
    # The tables a batch of cases fills (``Generator._tables``).
    t_case: Table
    t_lead: Table
    t_identity: Table
    t_location: Table
    t_consent: Table
    t_referral: Table
    t_need: Table
    t_need_change: Table
    t_note: Table
    t_document: Table
    t_grant: Table
    # For drawing cases (``Generator._pickers`` and ``Generator._cases``).
    pick: dict[str, Picker]
    leads: Picker
    receivers: Callable[[AgencyPlan, str], Picker | None]
    pools: dict[str, IdPool]
    respond_by_offsets: dict[tuple[datetime.date, str], datetime.timedelta]
    tiny: AgencyPlan | None
    tiny_every: int
    ref_width: int

    def _write(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            table.copy(rows)
        self._count(table, len(rows))

    def _count(self, table: Table, rows: int) -> None:
        self.counts[table.label] = self.counts.get(table.label, 0) + rows

    def _audit(
        self,
        rows: list[tuple[Any, ...]],
        when: datetime.datetime,
        actor: int | None,
        action: StrEnum,
        target_type: str,
        target_id: int,
        case_id: int | None,
        detail: dict[str, Any] | RawJSON,
    ) -> None:
        rows.append(
            (
                when,
                actor,
                self.user_agency.get(actor) if actor is not None else None,
                action,
                target_type,
                str(target_id),
                case_id,
                vocab.AUDIT_REQUEST_ID,
                detail,
            )
        )

    def _between(self, start: datetime.datetime, end: datetime.datetime) -> datetime.datetime:
        """A whole second between ``start`` and ``end`` (``start`` if they are the wrong way)."""
        span = (end - start).total_seconds()
        return start + datetime.timedelta(seconds=int(self.rng.random() * max(span, 0)))
