"""How big a synthetic partnership to draw: the default, the quick one, and the limits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    cases: int = 100_000
    agencies: int = 50
    partnerships: int = 5
    users: int = 1_000
    referrals_per_case: float = 2.0
    needs_per_case: float = 5.0
    notes_per_case: float = 5.0
    documents_per_case: float = 1.0

    def problems(self) -> list[str]:
        found = []
        if self.cases < 0:
            found.append("--cases cannot be negative")
        if self.agencies < 2:
            found.append("--agencies must be at least 2 (referrals go between agencies)")
        if not 1 <= self.partnerships <= max(1, self.agencies - 1):
            found.append("--partnerships must be between 1 and the number of agencies - 1")
        if self.users < 2 * self.agencies:
            found.append(
                "--users must be at least twice --agencies (a case manager and a "
                "caseworker in every agency)"
            )
        for name in (
            "referrals_per_case",
            "needs_per_case",
            "notes_per_case",
            "documents_per_case",
        ):
            if getattr(self, name) < 0:
                found.append(f"--{name.replace('_', '-')} cannot be negative")
        return found


DEFAULT_SIZES = Sizes()
QUICK_SIZES = Sizes(cases=2_000, agencies=10, partnerships=2, users=100)
