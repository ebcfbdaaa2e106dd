"""The audit actions of the bench tooling (see ``audit.audit_actions`` for the convention)."""

from __future__ import annotations

import enum


@enum.unique
class BenchAction(enum.StrEnum):
    SYNTHETIC_RESET = "bench.synthetic_reset"
