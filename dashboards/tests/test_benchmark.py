"""The dashboard's place in the benchmark: the dashboard and the raw SQL it is built
from, as two calls to time side by side."""

from __future__ import annotations

from dashboards import benchmark


def test_the_comparison_runs_the_dashboard_and_its_own_fourteen_statements(
    data, northshire, year, partnership, django_assert_num_queries
):
    statements = benchmark.captured_sql(northshire, year)
    assert len(statements) == 14
    assert all(sql.lstrip().upper().startswith("SELECT") for sql in statements)
    dashboard_call, raw_call = benchmark.comparison(northshire, year).values()
    with django_assert_num_queries(14):
        published = dashboard_call()
    assert published.table("cases_by_month").column_totals[0] == 12
    with django_assert_num_queries(14):
        assert raw_call() > 0


def test_the_largest_partnership_is_the_one_leading_most_cases(data, partnership):
    assert benchmark.largest_partnership() == partnership
