"""Tables from grouped counts: the query groups, Python only arranges the results."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils.translation import gettext as _

from ..tables import Column, Row, Table


def grouped_counts(rows: Iterable[dict[str, Any]], *keys: str) -> Counter[tuple[Any, ...]]:
    """Grouped query results as {(key values...): n}."""
    found: Counter[tuple[Any, ...]] = Counter()
    for row in rows:
        found[tuple(row[key] for key in keys)] += row["n"]
    return found


def crosstab(
    key: str,
    title: str,
    row_header: str,
    row_choices: Sequence[tuple[str, Any]],
    column_choices: Sequence[tuple[str, Any]],
    counts: Counter[tuple[Any, ...]],
    **extra: Any,
) -> Table:
    """A table with row totals, column totals and a grand total from grouped counts."""
    rows = []
    for row_key, row_label in row_choices:
        values = tuple(counts[(row_key, column_key)] for column_key, _ in column_choices)
        rows.append(Row(str(row_key), str(row_label), values, total=sum(values)))
    column_totals = tuple(sum(row.values[i] for row in rows) for i in range(len(column_choices)))
    return Table(
        key=key,
        title=title,
        row_header=row_header,
        columns=tuple(Column(str(k), str(label)) for k, label in column_choices),
        rows=tuple(rows),
        column_totals=column_totals,
        grand_total=sum(column_totals),
        total_label=_("Total"),
        **extra,
    )


def single_column(
    key: str,
    title: str,
    row_header: str,
    column: Column,
    rows: Sequence[tuple[str, str, int]],
    **extra: Any,
) -> Table:
    """A one-column table with its total (a partition of the total)."""
    return Table(
        key=key,
        title=title,
        row_header=row_header,
        columns=(column,),
        rows=tuple(Row(str(k), str(label), (n,)) for k, label, n in rows),
        column_totals=(sum(n for _, _, n in rows),),
        total_label=_("Total"),
        **extra,
    )
