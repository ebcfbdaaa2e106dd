"""Small builders and an independent checker for the suppression tests."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from dashboards.tables import TOTAL, Column, PublishedTable, Row, Table


def grid_table(
    values: Sequence[Sequence[int]],
    *,
    row_totals: bool = True,
    column_totals: bool = True,
    key: str = "t",
    **extra: object,
) -> Table:
    """A table of ``values`` (rows r0.., columns c0..) with the totals asked for, each the
    sum of its line."""
    width = len(values[0]) if values else 0
    rows = tuple(
        Row(f"r{i}", f"Row {i}", tuple(line), total=sum(line) if row_totals else None)
        for i, line in enumerate(values)
    )
    sums = tuple(sum(line[j] for line in values) for j in range(width))
    return Table(
        key=key,
        title="Test",
        row_header="Row",
        columns=tuple(Column(f"c{j}", f"Column {j}") for j in range(width)),
        rows=rows,
        column_totals=sums if column_totals else None,
        grand_total=sum(sums) if row_totals and column_totals else None,
        # A test's extra Table fields, of whatever types those fields take.
        **extra,  # type: ignore[arg-type]
    )


def shown(table: PublishedTable) -> list[list[object]]:
    """The published table as a list of lines: each row's values then its total (if any);
    the totals row last."""
    lines: list[list[object]] = []
    for row in table.rows:
        lines.append([*row.values, *([row.total] if row.total is not None else [])])
    if table.column_totals is not None:
        grand = [table.grand_total] if table.grand_total is not None else []
        lines.append([*table.column_totals, *grand])
    return lines


def equations(table: Table) -> list[dict[tuple[str, str], int]]:
    """Every sum the table shows, as {position: coefficient} = 0: each row's cells minus
    its total, each column's cells minus its total, and the totals row and column minus
    the grand total. Written from the table's shape, independently of the module."""
    rows = [row.key for row in table.rows]
    columns = [column.key for column in table.columns]
    found = []
    if table.has_row_totals:
        for r in rows:
            found.append({**{(r, c): 1 for c in columns}, (r, TOTAL): -1})
        if table.column_totals is not None:
            found.append({**{(TOTAL, c): 1 for c in columns}, (TOTAL, TOTAL): -1})
    if table.column_totals is not None:
        for c in columns:
            found.append({**{(r, c): 1 for r in rows}, (TOTAL, c): -1})
        if table.has_row_totals:
            found.append({**{(r, TOTAL): 1 for r in rows}, (TOTAL, TOTAL): -1})
    return found


def _rank(matrix: list[list[Fraction]]) -> int:
    rows = [line[:] for line in matrix]
    rank = 0
    width = len(rows[0]) if rows else 0
    for column in range(width):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][column] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i][column] != 0:
                factor = rows[i][column] / rows[rank][column]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[rank], strict=True)]
        rank += 1
    return rank


def determined(table: Table, hidden: frozenset[tuple[str, str]]) -> set[tuple[str, str]]:
    """The hidden positions a reader can compute exactly from the shown numbers: those
    whose unit vector lies in the row space of the equations restricted to the hidden
    positions (exact rational arithmetic)."""
    unknowns = sorted(hidden)
    if not unknowns:
        return set()
    matrix = [[Fraction(equation.get(pos, 0)) for pos in unknowns] for equation in equations(table)]
    matrix = [line for line in matrix if any(line)]
    base = _rank(matrix) if matrix else 0
    found = set()
    for i, pos in enumerate(unknowns):
        unit = [Fraction(1 if j == i else 0) for j in range(len(unknowns))]
        if _rank([*matrix, unit]) == base:
            found.add(pos)
    return found
