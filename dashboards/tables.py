"""The shapes a dashboard's numbers travel in, before and after suppression.

``measures`` builds a ``Dashboard`` of raw numbers (every count exact); ``suppression``
turns it into a ``PublishedDashboard``, the only thing a page, a chart, a CSV file or
the API may show. Nothing here carries a person: labels come from choices, agency kinds,
months and country names; keys are the choices' codes.

A ``Table`` is a grid of counts: ``rows`` (each with a key, a label and one integer per
column), optional row totals (``Row.total``), optional column totals and, when both
exist, a grand total. A cell is addressed by ``(row key, column key)``; ``TOTAL`` stands
for the totals row or the totals column. A table may also carry figures per row
(``Table.figure_columns``, ``Row.figures``) and for its totals row (``total_figures``).

Figures are single numbers: ``CountFigure`` (published like a cell), ``Share`` (a numerator
over a denominator ``n``) and ``Median`` (over ``n`` values). A share or median computed
from table cells names them (``cells``, ``n_cells``): it is published only if all of them
are, so that it never gives a suppressed cell back.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field
from typing import Any

# Stands for the totals row (as a row key) or the totals column (as a column key).
TOTAL = "total"


@dataclass(frozen=True)
class Column:
    key: str
    label: str


@dataclass(frozen=True)
class CellRef:
    """One cell of one table: ``row``/``column`` may be ``TOTAL``."""

    table: str
    row: str
    column: str


@dataclass(frozen=True)
class CountFigure:
    """A count shown on its own (suppressed like a table cell, rule 1)."""

    key: str
    label: str
    value: int
    note: str = ""


@dataclass(frozen=True)
class Share:
    """``numerator`` of ``denominator``; published as a percentage with ``n``.

    ``cells``: the table cells the share is computed from (numerator and denominator);
    ``n_cells``: those the denominator is computed from. Empty for a share counted on its
    own (then only its own numbers decide).
    """

    key: str
    label: str
    numerator: int
    denominator: int
    cells: tuple[CellRef, ...] = ()
    n_cells: tuple[CellRef, ...] = ()
    note: str = ""

    @property
    def percent(self) -> float | None:
        if not self.denominator:
            return None
        return 100 * self.numerator / self.denominator


@dataclass(frozen=True)
class Median:
    """The median of ``n`` values (None when n is 0), in ``unit`` ("hours", "days").

    ``cells``: the table cells ``n`` is computed from.
    """

    key: str
    label: str
    value: float | None
    n: int
    unit: str
    cells: tuple[CellRef, ...] = ()
    note: str = ""


Figure = CountFigure | Share | Median


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    values: tuple[int, ...]
    # The row's total, when the table has a totals column (None otherwise).
    total: int | None = None
    # One figure per ``Table.figure_columns`` entry.
    figures: tuple[Figure, ...] = ()


@dataclass(frozen=True)
class Link:
    """A cell that shows a number shown elsewhere too (``key`` names the number): if it is
    suppressed anywhere, it is suppressed everywhere, or one table would give it away."""

    row: str
    column: str
    key: str


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    row_header: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    # One per column, or None when the table shows no totals row.
    column_totals: tuple[int, ...] | None = None
    # Shown when the table has both row and column totals.
    grand_total: int | None = None
    total_label: str = "Total"
    figure_columns: tuple[Column, ...] = ()
    total_figures: tuple[Figure, ...] = ()
    links: tuple[Link, ...] = ()
    # False when a total is not the sum of its line (a case counts under each of its
    # exploitation types; the total counts it once): see ``suppression``, step 2.
    additive: bool = True
    note: str = ""

    def __post_init__(self) -> None:
        width = len(self.columns)
        with_totals = {row.total is not None for row in self.rows}
        if len(with_totals) > 1:
            raise ValueError(f"{self.key}: every row has a total, or none does")
        for row in self.rows:
            if len(row.values) != width:
                raise ValueError(f"{self.key}: row {row.key} has {len(row.values)} values")
            if len(row.figures) != len(self.figure_columns):
                raise ValueError(f"{self.key}: row {row.key} has the wrong number of figures")
        if self.column_totals is not None and len(self.column_totals) != width:
            raise ValueError(f"{self.key}: {len(self.column_totals)} column totals")
        both = self.has_row_totals and self.column_totals is not None
        if both != (self.grand_total is not None):
            raise ValueError(f"{self.key}: a grand total goes with row and column totals")

    @property
    def has_row_totals(self) -> bool:
        return bool(self.rows) and self.rows[0].total is not None

    def cell(self, row: str, column: str) -> int | None:
        """The raw value at (row key, column key), ``TOTAL`` allowed; None if absent."""
        try:
            c = None if column == TOTAL else [col.key for col in self.columns].index(column)
        except ValueError:
            return None
        if row == TOTAL:
            if c is None:
                return self.grand_total
            return self.column_totals[c] if self.column_totals is not None else None
        for candidate in self.rows:
            if candidate.key == row:
                return candidate.total if c is None else candidate.values[c]
        return None


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class ScopeInfo:
    """What the dashboard covers: a partnership or one agency (no people)."""

    kind: str  # "partnership" or "agency"
    id: int
    name: str


@dataclass(frozen=True)
class Dashboard:
    """Every measure, exact. Never shown as it is: publish it with ``suppression``."""

    scope: ScopeInfo
    filters: dict[str, Any]
    generated_at: datetime.datetime
    sections: tuple[Section, ...]
    # The suppression threshold the measures were built for (rare nationalities are
    # grouped by it); None when it does not matter.
    threshold: int | None = None

    def section(self, key: str) -> Section:
        return next(section for section in self.sections if section.key == key)

    def table(self, key: str) -> Table:
        for section in self.sections:
            for table in section.tables:
                if table.key == key:
                    return table
        raise KeyError(key)

    def figure(self, key: str) -> Figure:
        for section in self.sections:
            for figure in section.figures:
                if figure.key == key:
                    return figure
        raise KeyError(key)


# --- Published (after suppression) ---------------------------------------------------

# A published count: the number, or the suppression marker (e.g. "<10").
Value = int | str


@dataclass(frozen=True)
class PublishedFigure:
    """``kind`` is "count", "share" or "median".

    ``value``: the count; the share as a percentage rounded to one decimal; the median
    rounded to one decimal; or a string when suppressed ("<10" for a count, "suppressed"
    for a share or median). ``n``: the share's denominator or the median's number of
    values (itself a published count, so possibly "<10"); None for a count.
    """

    key: str
    label: str
    kind: str
    value: int | float | str | None
    n: Value | None = None
    unit: str = ""
    note: str = ""

    @property
    def suppressed(self) -> bool:
        return isinstance(self.value, str)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "suppressed": self.suppressed}


@dataclass(frozen=True)
class PublishedRow:
    key: str
    label: str
    values: tuple[Value, ...]
    total: Value | None = None
    figures: tuple[PublishedFigure, ...] = ()


@dataclass(frozen=True)
class PublishedTable:
    key: str
    title: str
    row_header: str
    columns: tuple[Column, ...]
    rows: tuple[PublishedRow, ...]
    column_totals: tuple[Value, ...] | None
    grand_total: Value | None
    total_label: str
    figure_columns: tuple[Column, ...] = ()
    total_figures: tuple[PublishedFigure, ...] = ()
    note: str = ""

    @property
    def has_row_totals(self) -> bool:
        return bool(self.rows) and self.rows[0].total is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "row_header": self.row_header,
            "columns": [asdict(column) for column in self.columns],
            "figure_columns": [asdict(column) for column in self.figure_columns],
            "rows": [
                {
                    "key": row.key,
                    "label": row.label,
                    "values": list(row.values),
                    "total": row.total,
                    "figures": [figure.as_dict() for figure in row.figures],
                }
                for row in self.rows
            ],
            "totals": None
            if self.column_totals is None
            else {
                "label": self.total_label,
                "values": list(self.column_totals),
                "total": self.grand_total,
                "figures": [figure.as_dict() for figure in self.total_figures],
            },
            "note": self.note,
        }

    def csv_rows(self) -> list[list[Any]]:
        """Header and rows for a CSV file: counts (or markers), then the figures' values."""
        header = [self.row_header, *(column.label for column in self.columns)]
        if self.has_row_totals:
            header.append(self.total_label)
        header.extend(column.label for column in self.figure_columns)
        lines: list[list[Any]] = [header]
        for row in self.rows:
            line: list[Any] = [row.label, *row.values]
            if self.has_row_totals:
                line.append(row.total)
            line.extend(figure.value for figure in row.figures)
            lines.append(line)
        if self.column_totals is not None:
            line = [self.total_label, *self.column_totals]
            if self.has_row_totals:
                line.append(self.grand_total)
            line.extend(figure.value for figure in self.total_figures)
            lines.append(line)
        return lines


@dataclass(frozen=True)
class PublishedSection:
    key: str
    title: str
    tables: tuple[PublishedTable, ...]
    figures: tuple[PublishedFigure, ...]
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "note": self.note,
            "tables": [table.as_dict() for table in self.tables],
            "figures": [figure.as_dict() for figure in self.figures],
        }


@dataclass(frozen=True)
class PublishedDashboard:
    scope: ScopeInfo
    filters: dict[str, Any]
    generated_at: datetime.datetime
    threshold: int
    sections: tuple[PublishedSection, ...] = field(default_factory=tuple)

    def section(self, key: str) -> PublishedSection:
        return next(section for section in self.sections if section.key == key)

    def table(self, key: str) -> PublishedTable:
        for section in self.sections:
            for table in section.tables:
                if table.key == key:
                    return table
        raise KeyError(key)

    def figure(self, key: str) -> PublishedFigure:
        for section in self.sections:
            for figure in section.figures:
                if figure.key == key:
                    return figure
        raise KeyError(key)

    def as_dict(self) -> dict[str, Any]:
        """The API's JSON body: plain dicts, lists, numbers and strings."""
        return {
            "scope": asdict(self.scope),
            "filters": self.filters,
            "generated_at": self.generated_at.isoformat(),
            "suppression_threshold": self.threshold,
            "sections": [section.as_dict() for section in self.sections],
        }
