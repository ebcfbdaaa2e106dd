"""The dashboard filters: validation with clear messages, and how each measure applies
the agency, region, exploitation-type and date filters (dataset counted by hand)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from dashboards.filters import DashboardFilterForm, Filters, default_period, parse_filters
from dashboards.measures import build_dashboard

from .test_measures import rows, totals

# --- Validation -----------------------------------------------------------------------------


def test_valid_parameters_become_filters(northshire, council):
    form = DashboardFilterForm(
        {
            "from": "2025-01-01",
            "to": "2025-06-30",
            "agency": str(council.pk),
            "region": "  Northshire ",
            "exploitation_type": "labour",
            "page": "2",  # unknown parameters are ignored
        },
        scope=northshire,
    )
    assert form.is_valid(), form.errors
    assert form.filters == Filters(
        datetime.date(2025, 1, 1), datetime.date(2025, 6, 30), council.pk, "Northshire", "labour"
    )


def test_without_dates_a_dashboard_covers_the_last_twelve_months(northshire):
    form = DashboardFilterForm({}, scope=northshire)
    assert form.is_valid()
    assert (form.filters.date_from, form.filters.date_to) == default_period()
    assert default_period(datetime.date(2026, 11, 30)) == (
        datetime.date(2025, 12, 1),
        datetime.date(2026, 11, 30),
    )
    assert default_period(datetime.date(2026, 1, 15)) == (
        datetime.date(2025, 2, 1),
        datetime.date(2026, 1, 15),
    )


def test_a_period_of_just_under_ten_years_is_accepted(northshire):
    form = DashboardFilterForm({"from": "2010-01-01", "to": "2019-12-31"}, scope=northshire)
    assert form.is_valid(), form.errors
    leap = DashboardFilterForm({"from": "2012-02-29", "to": "2022-02-28"}, scope=northshire)
    assert leap.is_valid(), leap.errors
    leap = DashboardFilterForm({"from": "2012-02-29", "to": "2022-03-01"}, scope=northshire)
    assert leap.errors["to"] == ["Choose a period of at most 10 years."]


def test_one_date_alone_is_completed(northshire):
    only_to = DashboardFilterForm({"to": "2025-06-30"}, scope=northshire)
    assert only_to.is_valid()
    assert only_to.filters.date_from == datetime.date(2024, 7, 1)
    only_from = DashboardFilterForm({"from": "2025-06-01"}, scope=northshire)
    assert only_from.is_valid()
    assert only_from.filters.date_to >= datetime.date(2025, 6, 1)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "01/04/2025"}, "from", "Enter a date as YYYY-MM-DD, for example 2025-04-01."),
        ({"to": "2025-02-30"}, "to", "Enter a date as YYYY-MM-DD, for example 2025-04-01."),
        (
            {"from": "2025-06-01", "to": "2025-05-31"},
            "to",
            "The end date must be on or after the start date.",
        ),
        (
            {"exploitation_type": "trafficking"},
            "exploitation_type",
            "“trafficking” is not an exploitation type. Use one of: labour, sexual, criminal, "
            "domestic_servitude, organ_harvesting, unknown.",
        ),
        ({"region": "x" * 121}, "region", "A region name has at most 120 characters."),
        ({"to": "9999-12-31"}, "to", "Enter a date between 2000-01-01 and 2100-12-31."),
        ({"from": "1999-12-31"}, "from", "Enter a date between 2000-01-01 and 2100-12-31."),
        (
            {"from": "2010-01-01", "to": "2020-01-01"},
            "to",
            "Choose a period of at most 10 years.",
        ),
        (
            {"agency": "abc"},
            "agency",
            "Agency abc is not one of this dashboard's agencies; leave it out or choose one "
            "of them.",
        ),
    ],
)
def test_bad_parameters_get_a_clear_message(northshire, params, field, message):
    form = DashboardFilterForm(params, scope=northshire)
    assert not form.is_valid()
    assert form.errors[field] == [message]


def test_an_agency_outside_the_scope_is_refused(northshire, outside_police, harbour, data):
    form = DashboardFilterForm({"agency": str(outside_police.pk)}, scope=northshire)
    assert not form.is_valid()
    assert form.errors["agency"] == [
        f"Agency {outside_police.pk} is not one of this dashboard's agencies; leave it out "
        "or choose one of them."
    ]
    # Built by hand past the form, it is refused before any query.
    with pytest.raises(ValueError, match="not in the dashboard's scope"):
        build_dashboard(northshire, Filters(agency_id=outside_police.pk))


def test_the_agency_choices_are_the_scopes_agencies(northshire, harbour, council, police):
    form = DashboardFilterForm({}, scope=northshire)
    names = [label for value, label in form.fields["agency"].choices if value != ""]
    assert names == [
        "Crown Prosecution",
        "Harbour Trust",
        "Northshire Council",
        "Northshire Police",
    ]


def test_parse_filters_raises_field_errors_for_the_api(northshire):
    with pytest.raises(ValidationError) as raised:
        parse_filters(northshire, {"from": "soon", "exploitation_type": "x"})
    assert set(raised.value.message_dict) == {"from", "exploitation_type"}
    assert parse_filters(northshire, {"from": "2025-01-01", "to": "2025-01-31"}) == Filters(
        datetime.date(2025, 1, 1), datetime.date(2025, 1, 31)
    )


def test_filters_as_query_parameters():
    filters = Filters(datetime.date(2025, 1, 1), datetime.date(2025, 3, 31), 7, "", "sexual")
    assert filters.as_params() == {
        "from": "2025-01-01",
        "to": "2025-03-31",
        "agency": 7,
        "region": None,
        "exploitation_type": "sexual",
    }


# --- How the measures apply them ---------------------------------------------------------------


def test_agency_filter(data, northshire, year, council):
    dashboard = build_dashboard(northshire, year.replace(agency_id=council.pk))
    # The Council leads c7, c8, c9 (closed in May), c10, c12.
    assert totals(dashboard.table("cases_by_month")) == (5, 1)
    # Referrals on its cases: c7 withdrawn, c10 waiting (overdue now), c12 accepted.
    assert totals(dashboard.table("referrals_by_kind"))[-1] == 3
    assert totals(dashboard.table("referrals_overdue_now")) == (1,)
    assert totals(dashboard.table("nrm_decisions"))[-1] == 2  # c9, c10
    # Its own intelligence (i6) and visit (nail bar), under its own kind only.
    assert rows(dashboard.table("intelligence_by_agency_kind")) == {"social_services": (1,)}
    assert totals(dashboard.table("premises_visits")) == (0, 0, 0, 1, 1)


def test_region_filter_ignores_case(data, northshire, year):
    dashboard = build_dashboard(northshire, year.replace(region="NORTHSHIRE"))
    # Every case of 2025 but c5 and c7 (Eastshire); c12's "northshire" matches.
    assert totals(dashboard.table("cases_by_month"))[0] == 10
    # Reports by area: i1, i3, i4. Visits: c1's, i1's (no case), c12's.
    assert totals(dashboard.table("intelligence_by_agency_kind")) == (3,)
    assert totals(dashboard.table("premises_visits"))[-1] == 3


def test_exploitation_type_filter(data, northshire, year):
    dashboard = build_dashboard(northshire, year.replace(exploitation_type="labour"))
    # c1, c2 (also sexual), c7, c10 (also criminal, county lines), c11.
    table = dashboard.table("cases_by_exploitation_type")
    assert {key: value for key, value in rows(table).items() if value[-1]} == {
        "labour": (4, 1, 5),
        "sexual": (1, 0, 1),
        "criminal": (0, 1, 1),
    }
    assert totals(table) == (4, 1, 5)
    # Referrals on those cases: c1 (2), c2 (2), c7, c10.
    assert totals(dashboard.table("referrals_by_kind"))[-1] == 6
    # Reports of labour: i1, i3, i6. Visits: c1's, i1's, c7's.
    assert totals(dashboard.table("intelligence_by_agency_kind")) == (3,)
    assert totals(dashboard.table("premises_visits"))[-1] == 3


def test_date_filter(data, northshire):
    march = Filters(datetime.date(2025, 3, 1), datetime.date(2025, 3, 31))
    dashboard = build_dashboard(northshire, march)
    # Opened c5 (1 March), c6, c7; closed c1 (5 March).
    assert rows(dashboard.table("cases_by_month")) == {"2025-03": (3, 1)}
    # Sent in March: c5's health referral, c7's crime report.
    assert totals(dashboard.table("referrals_by_kind"))[-1] == 2
    # The overdue referrals and the people in recovery are "now": the dates do not apply.
    assert totals(dashboard.table("referrals_overdue_now")) == (2,)
    assert dashboard.figure("people_in_recovery_period_now").value == 3


def test_the_first_and_last_day_are_included_in_local_time(data, northshire):
    # c15 opened at 23:59 on 31 December 2024; c12 at 23:30 on 31 December 2025.
    new_year = Filters(datetime.date(2024, 12, 31), datetime.date(2024, 12, 31))
    assert totals(build_dashboard(northshire, new_year).table("cases_by_month"))[0] == 1
    last_day = Filters(datetime.date(2025, 12, 31), datetime.date(2025, 12, 31))
    assert totals(build_dashboard(northshire, last_day).table("cases_by_month"))[0] == 1
