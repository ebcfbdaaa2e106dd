"""The SQL every dashboard measure shares: which rows count, and aggregates Django lacks.

The agency filter narrows the dashboard's scope and never widens it; a case, and
everything on it, counts for the agency that leads the case now (``case_q``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Aggregate, F, FloatField, Func, IntegerField, Q, QuerySet

from casework.models import Case

from ..filters import Filters
from ..scope import Scope

# --- Aggregates -------------------------------------------------------------------------


class MedianOf(Aggregate):
    """``percentile_cont(0.5) WITHIN GROUP (ORDER BY expr)``: the median, interpolated."""

    function = "percentile_cont"
    name = "MedianOf"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class Seconds(Func):
    """The length of an interval in seconds."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


class DaysBetween(Func):
    """``later - earlier`` for two dates: whole days."""

    template = "(%(expressions)s)"
    arg_joiner = " - "
    output_field = IntegerField()

    def __init__(self, later: Any, earlier: Any) -> None:
        super().__init__(later, earlier)


def hours(start: str, end: str) -> Any:
    return Seconds(F(end) - F(start)) / 3600.0


def days(start: str, end: str) -> Any:
    return Seconds(F(end) - F(start)) / 86400.0


# --- Scoping and filtering --------------------------------------------------------------


def counted_agency_ids(scope: Scope, filters: Filters) -> tuple[int, ...]:
    """The agencies whose numbers count: the scope's, or the one the filter names."""
    if filters.agency_id is None:
        return scope.agency_ids
    if filters.agency_id not in scope.agency_ids:
        # The form refuses this first; a caller that built Filters by hand gets no data.
        raise ValueError(f"agency {filters.agency_id} is not in the dashboard's scope")
    return (filters.agency_id,)


def case_q(scope: Scope, filters: Filters, prefix: str = "") -> Q:
    """The cases that count (their lead agency, region and type), seen through ``prefix``
    (``"case__"`` from a need, a referral...)."""
    q = Q(**{f"{prefix}lead_agency_id__in": counted_agency_ids(scope, filters)})
    if filters.region:
        q &= Q(**{f"{prefix}region__iexact": filters.region})
    if filters.exploitation_type:
        q &= Q(**{f"{prefix}exploitation_types__contains": [filters.exploitation_type]})
    return q


def cases_opened(scope: Scope, filters: Filters) -> QuerySet[Case]:
    return Case.objects.filter(case_q(scope, filters), filters.during("opened_at")).order_by()
