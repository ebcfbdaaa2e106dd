"""Small-number suppression: the one module every page, chart, CSV file and API response
uses before a dashboard number leaves the server (DOMAIN.md, "Publishing numbers safely").

The threshold ``t`` is ``settings.SUPPRESSION_THRESHOLD`` (environment
``CONCORD_SUPPRESSION_THRESHOLD``, default 10). A suppressed count is published as the
marker ``"<t>"`` ("<10"): every suppressed count, whatever its value and whichever rule
hid it, so a reader cannot tell a small cell from one hidden to protect it. A suppressed
share or median is published as ``"suppressed"`` (``"<10"`` would read as "under 10%").

The algorithm, for one table (rows x columns of counts, with the row totals, column
totals and grand total it shows):

1. **Primary.** Every count from 1 to t-1 is suppressed, totals included (a total below t
   is itself a small number). Zeros are shown: an empty cell is no person.
2. **Small lines.** A line is a row or a column together with its total (the totals row
   and the totals column are lines too, ending in the grand total). In a line whose total
   is from 1 to t-1, zeros are suppressed as well: showing which cells are empty would
   tell which attribute the few people in that line share ("all five are children").
   Where a total is not the sum of its line (a case counts under each of its types, the
   total once), a cell whose difference from the total is from 1 to t-1 is suppressed
   too: "45 of the 48 cases are labour" says that 3 are not.
3. **Complementary.** Each line is a sum, so a reader can work a hidden number out from
   the numbers shown. The plain case: a line with exactly one hidden member (total minus
   the others); then the smallest shown member of that line (non-zero before zero, a
   cell before a total) is suppressed too. The general case: lines can give a number
   away together (two blocks of hidden cells joined by one hidden cell let a reader add
   and subtract whole rows and columns to isolate it). Seen as a graph, with one vertex
   per line and one edge per hidden member joining the lines it sits in, a hidden number
   can be worked out exactly when its edge lies on no cycle (a bridge; the plain case is
   one). Each bridge is closed by suppressing the cheapest chain of shown members that
   puts it on a cycle: in a table with totals one way only, the smallest other member of
   its line; for a cell alone in its row and its column, the cheapest rectangle. This
   repeats until no bridge is left (rows and columns interact; it ends because numbers
   only ever get hidden). The tests check the result against exact linear algebra.
4. **The same number in several tables** (the number of cases opened, shown under
   months, types, ages, risk levels, nationalities and the justice funnel) is declared
   with a ``Link``: hidden in one table, it is hidden in all, and steps 1-3 run again on
   every table with it hidden, until nothing changes.
5. **Figures.** A lone count follows step 1. A share or a median is suppressed when its
   ``n`` (the denominator; the number of values) is from 1 to t-1, or when a table cell it
   is computed from is suppressed; its ``n`` shows the marker when it is small or a cell
   it is the sum of is suppressed. A share is also suppressed when its numerator, or ``n``
   minus the numerator, is from 1 to t-1: the share and ``n`` together give both back
   ("96% of 50" is 2 people). A share of nothing (n = 0) has no value (None).

Row and column totals are treated as sums even where they are not (a case counts under
each of its exploitation types, and the total counts each case once): treating an
inequality as an equation only ever hides more.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings

from .tables import (
    TOTAL,
    CellRef,
    CountFigure,
    Dashboard,
    Figure,
    Median,
    PublishedDashboard,
    PublishedFigure,
    PublishedRow,
    PublishedSection,
    PublishedTable,
    Share,
    Table,
)

FIGURE_SUPPRESSED = "suppressed"


def threshold() -> int:
    """The current threshold (a setting, so a partnership can choose e.g. 11 like CTDC)."""
    value = settings.SUPPRESSION_THRESHOLD
    if not isinstance(value, int) or value < 2:
        raise ValueError(f"SUPPRESSION_THRESHOLD must be a whole number of 2 or more: {value!r}")
    return value


def marker(t: int) -> str:
    """What a suppressed count shows: "<10" for a threshold of 10."""
    return f"<{t}"


def is_small(value: int, t: int) -> bool:
    return 0 < value < t


# --- One table: which cells are hidden --------------------------------------------------

Pos = tuple[str, str]  # (row key, column key), TOTAL allowed
ZERO_COST = 10**12  # zeros are hidden as complements only when nothing else will do


@dataclass
class _Grid:
    values: dict[Pos, int]
    totals: frozenset[Pos]
    lines: list[list[Pos]]  # each line's last member is its total

    def lines_of(self) -> dict[Pos, list[int]]:
        membership: dict[Pos, list[int]] = {pos: [] for pos in self.values}
        for index, line in enumerate(self.lines):
            for pos in line:
                membership[pos].append(index)
        return membership

    def cost(self, pos: Pos) -> int:
        value = self.values[pos]
        if value == 0:
            return ZERO_COST
        # A cell before a total of the same size.
        return 2 * value + (1 if pos in self.totals else 0)


def _grid(table: Table) -> _Grid:
    rows = [row.key for row in table.rows]
    columns = [column.key for column in table.columns]
    values: dict[Pos, int] = {}
    for row in table.rows:
        for column, value in zip(columns, row.values, strict=True):
            values[(row.key, column)] = value
        if row.total is not None:
            values[(row.key, TOTAL)] = row.total
    if table.column_totals is not None:
        for column, value in zip(columns, table.column_totals, strict=True):
            values[(TOTAL, column)] = value
    if table.grand_total is not None:
        values[(TOTAL, TOTAL)] = table.grand_total
    lines: list[list[Pos]] = []
    if table.has_row_totals:
        line_rows = rows + ([TOTAL] if table.column_totals is not None else [])
        lines.extend([(r, c) for c in columns] + [(r, TOTAL)] for r in line_rows)
    if table.column_totals is not None:
        line_columns = columns + ([TOTAL] if table.has_row_totals else [])
        lines.extend([(r, c) for r in rows] + [(TOTAL, c)] for c in line_columns)
    totals = frozenset(pos for pos in values if TOTAL in pos)
    return _Grid(values=values, totals=totals, lines=lines)


def hidden_cells(table: Table, t: int, forced: Iterable[Pos] = ()) -> frozenset[Pos]:
    """The cells of ``table`` to suppress (steps 1-3), with ``forced`` hidden from the
    start (step 4). Positions are (row key, column key), ``TOTAL`` for totals."""
    grid = _grid(table)
    hidden = {pos for pos, value in grid.values.items() if is_small(value, t)}
    hidden |= {pos for pos in forced if pos in grid.values}
    for line in grid.lines:
        total = grid.values[line[-1]]
        if is_small(total, t):
            hidden |= {pos for pos in line if grid.values[pos] == 0}
        if not table.additive:
            hidden |= {pos for pos in line[:-1] if is_small(total - grid.values[pos], t)}
    while _close_one_bridge(grid, hidden):
        pass
    return frozenset(hidden)


FREE = -1  # the vertex of a member that sits in fewer than two lines: no equation there


def _endpoints(lines: list[int]) -> tuple[int, int]:
    padded = [*lines, FREE, FREE]
    return padded[0], padded[1]


def _component(start: int, edges: Mapping[Pos, tuple[int, int]], skip: Pos) -> set[int]:
    seen = {start}
    stack = [start]
    adjacency: dict[int, list[int]] = {}
    for pos, (a, b) in edges.items():
        if pos != skip:
            adjacency.setdefault(a, []).append(b)
            adjacency.setdefault(b, []).append(a)
    while stack:
        for neighbour in adjacency.get(stack.pop(), []):
            if neighbour not in seen:
                seen.add(neighbour)
                stack.append(neighbour)
    return seen


def _close_one_bridge(grid: _Grid, hidden: set[Pos]) -> bool:
    """Step 3: find one hidden member that is a bridge (a reader can work it out) and
    hide the cheapest chain of shown members that puts it on a cycle. True if one was
    found."""
    membership = grid.lines_of()
    ends = {pos: _endpoints(membership[pos]) for pos in grid.values}
    hidden_edges = {pos: ends[pos] for pos in hidden}
    for pos in sorted(hidden, key=lambda p: (p[0] == TOTAL, p[1] == TOTAL, p)):
        a, b = hidden_edges[pos]
        if a == b:
            continue  # a loop (e.g. a cell in no line at all) is never determined
        side_a = _component(a, hidden_edges, skip=pos)
        if b in side_a:
            continue  # on a cycle: not determined
        path = _cheapest_path(grid, ends, hidden, side_a, _component(b, hidden_edges, pos), pos)
        if path is None:  # pragma: no cover - every line has a total, so a path exists
            raise RuntimeError(f"no complement for {pos}")
        hidden.update(path)
        return True
    return False


def _cheapest_path(
    grid: _Grid,
    ends: Mapping[Pos, tuple[int, int]],
    hidden: set[Pos],
    sources: set[int],
    targets: set[int],
    bridge: Pos,
) -> list[Pos] | None:
    """Dijkstra from one side of the bridge to the other, over every member but the
    bridge: hidden members cost nothing, shown ones their ``cost``."""
    adjacency: dict[int, list[tuple[int, Pos]]] = {}
    for pos, (a, b) in ends.items():
        if pos == bridge or a == b:
            continue
        adjacency.setdefault(a, []).append((b, pos))
        adjacency.setdefault(b, []).append((a, pos))
    best: dict[int, int] = {vertex: 0 for vertex in sources}
    came: dict[int, tuple[int, Pos]] = {}
    queue = [(0, vertex) for vertex in sorted(sources)]
    heapq.heapify(queue)
    while queue:
        cost, vertex = heapq.heappop(queue)
        if cost > best.get(vertex, cost):
            continue
        if vertex in targets:
            path = []
            while vertex in came:
                vertex, pos = came[vertex]
                if pos not in hidden:
                    path.append(pos)
            return path
        for neighbour, pos in adjacency.get(vertex, []):
            step = 0 if pos in hidden else grid.cost(pos)
            if cost + step < best.get(neighbour, cost + step + 1):
                best[neighbour] = cost + step
                came[neighbour] = (vertex, pos)
                heapq.heappush(queue, (cost + step, neighbour))
    return None


# --- Figures --------------------------------------------------------------------------


def publish_figure(
    figure: Figure, t: int, is_hidden: Callable[[CellRef], bool] = lambda ref: False
) -> PublishedFigure:
    """Step 5. ``is_hidden`` says whether a table cell the figure is computed from is
    suppressed."""
    if isinstance(figure, CountFigure):
        value = marker(t) if is_small(figure.value, t) else figure.value
        return PublishedFigure(figure.key, figure.label, "count", value, note=figure.note)
    depends_on_hidden = any(is_hidden(ref) for ref in figure.cells)
    if isinstance(figure, Share):
        n = figure.denominator
        n_hidden = is_small(n, t) or any(is_hidden(ref) for ref in figure.n_cells)
        n_shown: int | str = marker(t) if n_hidden else n
        share: float | str | None
        if n == 0:
            share = None
        elif (
            n < t
            or n_hidden
            or depends_on_hidden
            or is_small(figure.numerator, t)
            or is_small(n - figure.numerator, t)
        ):
            share = FIGURE_SUPPRESSED
        else:
            share = round(100 * figure.numerator / n, 1)
        return PublishedFigure(
            figure.key, figure.label, "share", share, n_shown, "%", note=figure.note
        )
    if isinstance(figure, Median):
        n = figure.n
        n_shown = marker(t) if is_small(n, t) or depends_on_hidden else n
        median: float | str | None
        if n == 0 or figure.value is None:
            median = None
        elif n < t or depends_on_hidden:
            median = FIGURE_SUPPRESSED
        else:
            median = round(figure.value, 1)
        return PublishedFigure(
            figure.key, figure.label, "median", median, n_shown, figure.unit, note=figure.note
        )
    raise TypeError(f"not a figure: {figure!r}")


# --- Tables and whole dashboards ------------------------------------------------------


def _published_table(
    table: Table, t: int, hidden: frozenset[Pos], is_hidden: Callable[[CellRef], bool]
) -> PublishedTable:
    def show(pos: Pos, value: int) -> int | str:
        return marker(t) if pos in hidden else value

    rows = tuple(
        PublishedRow(
            key=row.key,
            label=row.label,
            values=tuple(
                show((row.key, column.key), value)
                for column, value in zip(table.columns, row.values, strict=True)
            ),
            total=None if row.total is None else show((row.key, TOTAL), row.total),
            figures=tuple(publish_figure(figure, t, is_hidden) for figure in row.figures),
        )
        for row in table.rows
    )
    column_totals = (
        None
        if table.column_totals is None
        else tuple(
            show((TOTAL, column.key), value)
            for column, value in zip(table.columns, table.column_totals, strict=True)
        )
    )
    return PublishedTable(
        key=table.key,
        title=table.title,
        row_header=table.row_header,
        columns=table.columns,
        rows=rows,
        column_totals=column_totals,
        grand_total=None if table.grand_total is None else show((TOTAL, TOTAL), table.grand_total),
        total_label=table.total_label,
        figure_columns=table.figure_columns,
        total_figures=tuple(publish_figure(figure, t, is_hidden) for figure in table.total_figures),
        note=table.note,
    )


def _hidden_across(tables: list[Table], t: int) -> dict[str, frozenset[Pos]]:
    """Steps 1-4 over several tables: a linked number hidden in one is hidden in all."""
    forced: set[str] = set()
    while True:
        hidden = {
            table.key: hidden_cells(
                table, t, [(link.row, link.column) for link in table.links if link.key in forced]
            )
            for table in tables
        }
        newly = {
            link.key
            for table in tables
            for link in table.links
            if (link.row, link.column) in hidden[table.key]
        }
        if newly <= forced:
            return hidden
        forced |= newly


def publish_table(table: Table, t: int | None = None) -> PublishedTable:
    """One table on its own. Figures computed from another table's cells are suppressed
    (they cannot be checked here): publish the whole dashboard for those."""
    t = threshold() if t is None else t
    hidden = hidden_cells(table, t)

    def is_hidden(ref: CellRef) -> bool:
        return ref.table != table.key or (ref.row, ref.column) in hidden

    return _published_table(table, t, hidden, is_hidden)


def publish(dashboard: Dashboard, t: int | None = None) -> PublishedDashboard:
    """The dashboard as it may be shown: every table, figure and link suppressed, at the
    threshold the dashboard was built for (its rare nationalities are grouped by it)."""
    if t is None:
        t = dashboard.threshold if dashboard.threshold is not None else threshold()
    elif dashboard.threshold is not None and t != dashboard.threshold:
        raise ValueError(
            f"The dashboard was built for a threshold of {dashboard.threshold}, not {t}."
        )
    tables = [table for section in dashboard.sections for table in section.tables]
    hidden = _hidden_across(tables, t)

    def is_hidden(ref: CellRef) -> bool:
        # A figure pointing at a table that is not there cannot be checked: hide it.
        return ref.table not in hidden or (ref.row, ref.column) in hidden[ref.table]

    sections = tuple(
        PublishedSection(
            key=section.key,
            title=section.title,
            tables=tuple(
                _published_table(table, t, hidden[table.key], is_hidden) for table in section.tables
            ),
            figures=tuple(publish_figure(figure, t, is_hidden) for figure in section.figures),
            note=section.note,
        )
        for section in dashboard.sections
    )
    return PublishedDashboard(
        scope=dashboard.scope,
        filters=dashboard.filters,
        generated_at=dashboard.generated_at,
        threshold=t,
        sections=sections,
    )
