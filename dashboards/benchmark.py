"""The dashboard in the benchmark ("at 100,000 cases its time stays within 3x of
the raw SQL aggregates it is built from").

``comparison`` gives two calls to time side by side (``bench.measure.compare``): the
whole dashboard as a page or the API would make it (scope's measures built through the
ORM, then suppressed), and the very SQL statements it sends, captured once and run again
through a bare cursor. The ratio is what the ORM, the arrangement of grouped rows and
suppression add to the database's own work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from agencies.models import Partnership

from .filters import Filters
from .measures import build_dashboard
from .scope import Scope
from .suppression import publish


def largest_partnership() -> Partnership:
    """The partnership whose agencies lead the most cases (the synthetic data's busiest)."""
    partnership = (
        Partnership.objects.annotate(cases=Count("agencies__led_cases"))
        .order_by("-cases", "pk")
        .first()
    )
    if partnership is None:
        raise LookupError("No partnership: seed the synthetic data first.")
    return partnership


def captured_sql(scope: Scope, filters: Filters) -> list[str]:
    """The SQL of every query the dashboard sends, parameters in place."""
    with CaptureQueriesContext(connection) as captured:
        build_dashboard(scope, filters)
    return [query["sql"] for query in captured.captured_queries]


def run_sql(statements: list[str]) -> int:
    """Run each statement and fetch its rows; the number of rows read."""
    rows = 0
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
            rows += len(cursor.fetchall())
    return rows


def comparison(scope: Scope, filters: Filters) -> dict[str, Callable[[], Any]]:
    """{label: call}: the published dashboard, and its raw SQL aggregates."""
    statements = captured_sql(scope, filters)
    return {
        "dashboard (measures + suppression)": lambda: publish(build_dashboard(scope, filters)),
        f"its raw SQL aggregates ({len(statements)} statements)": lambda: run_sql(statements),
    }
