"""Small-number suppression (``dashboards.suppression``): every rule on hand-made tables,
and a check against exact linear algebra that no hidden number can be worked out."""

from __future__ import annotations

import datetime
import random

import pytest

from dashboards import suppression
from dashboards.suppression import hidden_cells, publish, publish_figure, publish_table
from dashboards.tables import (
    TOTAL,
    CellRef,
    Column,
    CountFigure,
    Dashboard,
    Link,
    Median,
    Row,
    ScopeInfo,
    Section,
    Share,
    Table,
)

from .helpers import determined, grid_table, shown

H = "<10"  # the marker at the default threshold


# --- Primary ------------------------------------------------------------------------------


def test_counts_from_one_to_nine_are_hidden_ten_and_zero_are_shown():
    table = grid_table([[10], [9], [1], [0], [30]], row_totals=False)
    assert shown(publish_table(table)) == [[10], [H], [H], [0], [30], [50]]


def test_a_total_below_the_threshold_is_hidden_with_every_cell_of_its_line_zeros_included():
    # "All seven are in the first two rows" is what the zero would say.
    table = grid_table([[3], [4], [0]], row_totals=False)
    assert shown(publish_table(table)) == [[H], [H], [H], [H]]


def test_a_zero_in_a_line_with_a_large_total_stays_shown():
    table = grid_table([[0, 15, 3, 2]], column_totals=False)
    assert shown(publish_table(table)) == [[0, 15, H, H, 20]]


# --- Complementary ------------------------------------------------------------------------


def test_complementary_cell_in_a_row():
    # Row 0 hides 3; 38 - 20 - 15 would give it back, so the smaller of the others (15)
    # goes too. Row 1 has nothing small and stays whole.
    table = grid_table([[20, 3, 15], [30, 12, 40]], column_totals=False)
    assert shown(publish_table(table)) == [[20, H, H, 38], [30, 12, 40, 82]]


def test_complementary_cell_in_a_column():
    table = grid_table([[20], [3], [15], [42]], row_totals=False)
    assert shown(publish_table(table)) == [[20], [H], [H], [42], [80]]


def test_a_cell_alone_in_its_row_and_column_is_protected_by_the_cheapest_rectangle():
    # 3 at (0, 1) is alone in row 0 and column 1. Closing it takes a rectangle: through
    # row 0 and column 1, the cheapest is 15 (0, 2), 11 (2, 2) and 18 (2, 1), cheaper
    # than 20/30/12 or 15/40/12.
    table = grid_table([[20, 3, 15], [30, 12, 40], [25, 18, 11]])
    assert shown(publish_table(table)) == [
        [20, H, H, 38],
        [30, 12, 40, 82],
        [25, H, H, 54],
        [75, 33, 66, 174],
    ]


def test_the_complement_is_non_zero_before_zero_and_a_cell_before_a_total():
    # Row: 4 is hidden; the others are 0, 0 and 25: 25 goes, not a zero (a zero hidden
    # as a complement protects little) and not the total 29.
    table = grid_table([[0, 4, 0, 25]], column_totals=False)
    assert shown(publish_table(table)) == [[0, H, 0, H, 29]]


def test_a_total_is_the_complement_when_only_zeros_are_left():
    # 12 is hidden (forced); the rest of the line is zeros, so the total must go.
    table = grid_table([[12], [0], [0]], row_totals=False)
    hidden = hidden_cells(table, 10, forced=[("r0", "c0")])
    assert hidden == {("r0", "c0"), (TOTAL, "c0")}


def test_two_hidden_cells_in_a_row_still_need_protecting_in_their_columns():
    # Row 0 hides 2 and 3: the row is safe, but each is alone in its column. The cheapest
    # cycle closing column 0 runs through column 1 and row 1: 13 and 14 go too.
    table = grid_table([[2, 3, 50], [13, 14, 60], [70, 80, 90]])
    assert shown(publish_table(table)) == [
        [H, H, 50, 55],
        [H, H, 60, 87],
        [70, 80, 90, 240],
        [85, 97, 200, 382],
    ]


def test_a_chain_of_two_blocks_joined_by_one_cell_is_broken():
    # Primary: two 2x2 blocks of small cells and 7 at (1, 2) joining them. Every row and
    # column has two or more hidden, yet rows 0-1 minus columns 0-1 isolate (1, 2): it
    # is a bridge. The cheapest cell from the block's rows to the other block's columns
    # is 50 at (0, 2).
    values = [[3, 4, 50, 60], [5, 6, 7, 70], [80, 90, 2, 3], [85, 95, 4, 5]]
    table = grid_table(values)
    small = {("r0", "c0"), ("r0", "c1"), ("r1", "c0"), ("r1", "c1"), ("r1", "c2")}
    small |= {("r2", "c2"), ("r2", "c3"), ("r3", "c2"), ("r3", "c3")}
    assert determined(table, frozenset(small)) == {("r1", "c2")}  # the leak it closes
    hidden = hidden_cells(table, 10)
    assert hidden == small | {("r0", "c2")}
    assert determined(table, hidden) == set()


def test_totals_below_the_threshold_are_hidden_and_protected_across_the_totals_row():
    # Row 1 totals 8: hidden with its cells (and its zero). Column totals are all large.
    table = grid_table([[20, 30, 40], [5, 3, 0], [25, 35, 45]])
    published = shown(publish_table(table))
    assert published[1] == [H, H, H, H]
    assert determined(table, hidden_cells(table, 10)) == set()


def test_a_table_whose_total_is_not_its_sum_hides_a_cell_close_to_the_total():
    # A case counts under each of its types; the total (48) counts each case once.
    # 48 - 45 = 3 cases without the first type: 45 is hidden, then 20 protects it.
    table = Table(
        key="types",
        title="Types",
        row_header="Type",
        columns=(Column("cases", "Cases"),),
        rows=(Row("labour", "Labour", (45,)), Row("sexual", "Sexual", (20,))),
        column_totals=(48,),
        additive=False,
    )
    assert shown(publish_table(table)) == [[H], [H], [48]]


# --- Exact check on many tables -----------------------------------------------------------


@pytest.mark.parametrize("seed", range(300))
def test_no_hidden_number_can_be_worked_out_and_no_small_number_is_shown(seed):
    rng = random.Random(seed)
    shape = rng.choice(["both", "both", "rows", "columns"])
    values = [
        [
            rng.choice([0, 0, rng.randint(1, 9), rng.randint(1, 12), rng.randint(10, 60)])
            for _ in range(rng.randint(1, 5))
        ]
    ]
    width = len(values[0])
    values += [
        [rng.choice([0, rng.randint(1, 9), rng.randint(10, 60)]) for _ in range(width)]
        for _ in range(rng.randint(0, 4))
    ]
    table = grid_table(values, row_totals=shape != "columns", column_totals=shape != "rows")
    hidden = hidden_cells(table, 10)
    assert determined(table, hidden) == set()
    for line in shown(publish_table(table)):
        for value in line:
            assert value == H or value == 0 or value >= 10


# --- Links between tables -----------------------------------------------------------------


def _dashboard(*tables: Table, figures: tuple = ()) -> Dashboard:
    return Dashboard(
        scope=ScopeInfo("partnership", 1, "Test"),
        filters={},
        generated_at=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC),
        sections=(Section("s", "Section", tables=tables, figures=figures),),
    )


def test_a_linked_number_hidden_in_one_table_is_hidden_in_every_table():
    # Table b hides 1 at (r0, c1); the cheapest cycle runs through its column total 12
    # (12 + 12 + 41 costs less than 13 + 40 + 40). Table a shows the same 12 as its total
    # and, alone, would show it; linked, it hides it.
    a = grid_table([[5], [7]], row_totals=False, key="a", links=(Link(TOTAL, "c0", "n"),))
    b = grid_table([[12, 1], [0, 40]], key="b", links=(Link(TOTAL, "c0", "n"),))
    assert shown(publish_table(a)) == [[H], [H], [12]]
    published = publish(_dashboard(a, b), 10)
    assert shown(published.table("b")) == [[H, H, 13], [0, 40, 40], [H, H, 53]]
    assert shown(published.table("a")) == [[H], [H], [H]]


# --- Figures -----------------------------------------------------------------------------


def test_a_count_figure_is_hidden_from_one_to_nine():
    assert publish_figure(CountFigure("c", "C", 9), 10).value == H
    assert publish_figure(CountFigure("c", "C", 0), 10).value == 0
    assert publish_figure(CountFigure("c", "C", 10), 10).value == 10


def test_a_share_of_fewer_than_ten_is_suppressed_and_so_is_its_n():
    figure = publish_figure(Share("s", "S", 6, 9), 10)
    assert (figure.value, figure.n) == ("suppressed", H)
    assert figure.suppressed


def test_a_share_is_published_as_a_percentage_with_its_n():
    figure = publish_figure(Share("s", "S", 20, 30), 10)
    assert (figure.value, figure.n, figure.unit) == (66.7, 30, "%")


def test_a_share_whose_numerator_or_remainder_is_small_is_suppressed():
    # 48 of 50 would say that 2 were not; 3 of 50 says 3 were.
    assert publish_figure(Share("s", "S", 48, 50), 10).value == "suppressed"
    assert publish_figure(Share("s", "S", 3, 50), 10).value == "suppressed"
    assert publish_figure(Share("s", "S", 40, 50), 10).value == 80.0
    assert publish_figure(Share("s", "S", 0, 50), 10).value == 0.0
    assert publish_figure(Share("s", "S", 50, 50), 10).value == 100.0


def test_a_share_of_nothing_has_no_value():
    figure = publish_figure(Share("s", "S", 0, 0), 10)
    assert (figure.value, figure.n) == (None, 0)


def test_a_median_of_fewer_than_ten_values_is_suppressed():
    assert publish_figure(Median("m", "M", 12.25, 9, "hours"), 10).value == "suppressed"
    figure = publish_figure(Median("m", "M", 12.25, 10, "hours"), 10)
    assert (figure.value, figure.n, figure.unit) == (12.2, 10, "hours")
    assert publish_figure(Median("m", "M", None, 0, "days"), 10).value is None


def test_a_figure_computed_from_a_hidden_cell_is_suppressed():
    # Accepted 12 was hidden to protect a neighbour: the share 12/32 would give it back.
    table = grid_table([[12, 20, 3]], column_totals=False, key="k")
    accepted, declined = CellRef("k", "r0", "c0"), CellRef("k", "r0", "c1")
    share = Share("s", "Accepted", 12, 32, (accepted, declined), (accepted, declined))
    median = Median("m", "Median", 5.0, 32, "hours", (accepted, declined))
    published = publish(_dashboard(table, figures=(share, median)), 10)
    assert shown(published.table("k")) == [[H, 20, H, 35]]
    assert (published.figure("s").value, published.figure("s").n) == ("suppressed", H)
    assert (published.figure("m").value, published.figure("m").n) == ("suppressed", H)


def test_a_share_keeps_its_n_when_only_its_numerator_cell_is_hidden():
    table = grid_table([[2, 30, 10]], column_totals=False, key="k")
    numerator, total = CellRef("k", "r0", "c0"), CellRef("k", "r0", TOTAL)
    share = Share("s", "Share", 2, 42, (numerator, total), (total,))
    figure = publish(_dashboard(table, figures=(share,)), 10).figure("s")
    assert (figure.value, figure.n) == ("suppressed", 42)


def test_a_figure_pointing_at_a_missing_table_is_suppressed():
    share = Share("s", "S", 20, 30, (CellRef("gone", "r0", "c0"),))
    assert publish(_dashboard(figures=(share,)), 10).figure("s").value == "suppressed"


# --- The threshold is a setting -------------------------------------------------------------


def test_the_threshold_comes_from_the_settings(settings):
    settings.SUPPRESSION_THRESHOLD = 5
    table = grid_table([[7], [4], [1], [12]], row_totals=False)
    assert suppression.threshold() == 5
    assert shown(publish_table(table)) == [[7], ["<5"], ["<5"], [12], [24]]


@pytest.mark.parametrize("bad", [1, 0, "10", None])
def test_a_threshold_below_two_or_not_a_number_is_refused(settings, bad):
    settings.SUPPRESSION_THRESHOLD = bad
    with pytest.raises(ValueError, match="SUPPRESSION_THRESHOLD"):
        suppression.threshold()


# --- Output shapes -------------------------------------------------------------------------


def test_a_published_table_as_json_and_csv():
    # 3 is closed by the cheapest rectangle: 20, 30 and 12 (62) rather than 15, 40, 12 (67).
    table = grid_table([[20, 3, 15], [30, 12, 40]])
    published = publish_table(table)
    data = published.as_dict()
    assert data["rows"][0] == {
        "key": "r0",
        "label": "Row 0",
        "values": [H, H, 15],
        "total": 38,
        "figures": [],
    }
    assert data["totals"] == {"label": "Total", "values": [50, 15, 55], "total": 120, "figures": []}
    assert published.csv_rows() == [
        ["Row", "Column 0", "Column 1", "Column 2", "Total"],
        ["Row 0", H, H, 15, 38],
        ["Row 1", H, H, 40, 82],
        ["Total", 50, 15, 55, 120],
    ]
