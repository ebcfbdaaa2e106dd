"""Every measure on the fixture dataset (``dataset.py``), before suppression. Each
expected number was counted by hand from the dataset's tables; none was copied from
the code's output."""

from __future__ import annotations

import pytest

from dashboards.measures import build_dashboard
from dashboards.tables import CountFigure, Median, Share, Table


def rows(table: Table) -> dict[str, tuple[int, ...]]:
    """Row key -> its values, then its total when the table has row totals."""
    return {
        row.key: (*row.values, *(() if row.total is None else (row.total,))) for row in table.rows
    }


def totals(table: Table) -> tuple[int, ...]:
    assert table.column_totals is not None
    grand = () if table.grand_total is None else (table.grand_total,)
    return (*table.column_totals, *grand)


def share(figure: object) -> tuple[int, int]:
    assert isinstance(figure, Share)
    return (figure.numerator, figure.denominator)


def median(figure: object) -> tuple[float | None, int]:
    assert isinstance(figure, Median)
    return (figure.value, figure.n)


@pytest.fixture
def dashboard(data, northshire, year):
    return build_dashboard(northshire, year)


def test_cases_opened_and_closed_by_month(dashboard):
    # Opened: c1 c2 | c3 c4 | c5 c6 c7 | c8 c9 | - | c10 | c11 (00:30 on 1 July in
    # London) | ... | c12 (23:30 on 31 December). Closed: c13 (opened 2024) in January,
    # c3, c1, c9, and c6 at 00:30 on 1 July. c14-c16 never count.
    table = dashboard.table("cases_by_month")
    assert [(row.key, row.label) for row in table.rows][:2] == [
        ("2025-01", "January 2025"),
        ("2025-02", "February 2025"),
    ]
    assert rows(table) == {
        "2025-01": (2, 1),
        "2025-02": (2, 1),
        "2025-03": (3, 1),
        "2025-04": (2, 0),
        "2025-05": (0, 1),
        "2025-06": (1, 0),
        "2025-07": (1, 1),
        "2025-08": (0, 0),
        "2025-09": (0, 0),
        "2025-10": (0, 0),
        "2025-11": (0, 0),
        "2025-12": (1, 0),
    }
    assert totals(table) == (12, 5)


def test_cases_by_exploitation_type_and_county_lines(dashboard):
    # A case counts under each of its types: c2 is labour and sexual, c10 labour and
    # criminal (county lines). The totals count each case once.
    table = dashboard.table("cases_by_exploitation_type")
    assert rows(table) == {
        "labour": (4, 1, 5),
        "sexual": (3, 0, 3),
        "criminal": (0, 3, 3),
        "domestic_servitude": (1, 0, 1),
        "organ_harvesting": (0, 0, 0),
        "unknown": (1, 0, 1),
        "none": (1, 0, 1),
    }
    assert totals(table) == (9, 3, 12)


def test_adults_children_and_risk_levels(dashboard):
    assert rows(dashboard.table("cases_by_age")) == {"adult": (9,), "child": (3,)}
    assert totals(dashboard.table("cases_by_age")) == (12,)
    assert rows(dashboard.table("cases_by_risk_level")) == {
        "standard": (5,),
        "medium": (3,),
        "high": (3,),
        "immediate": (1,),
    }
    assert totals(dashboard.table("cases_by_risk_level")) == (12,)


def test_no_nationality_is_named_below_the_threshold(dashboard):
    # AL 4, VN 2, GB 2, RO 2, PL 1, not recorded 1: none has 10.
    table = dashboard.table("cases_by_nationality")
    assert rows(table) == {"other": (11,), "not_recorded": (1,)}
    assert totals(table) == (12,)


def test_top_nationalities_at_a_lower_threshold(settings, data, northshire, year):
    settings.SUPPRESSION_THRESHOLD = 2
    table = build_dashboard(northshire, year).table("cases_by_nationality")
    # Most cases first; equal counts by name (Romania, United Kingdom, Vietnam).
    assert [(row.key, row.label, row.values) for row in table.rows] == [
        ("AL", "Albania", (4,)),
        ("RO", "Romania", (2,)),
        ("GB", "United Kingdom", (2,)),
        ("VN", "Vietnam", (2,)),
        ("other", "Other nationalities", (1,)),
        ("not_recorded", "Not recorded", (1,)),
    ]


def test_needs_by_category_and_status_and_share_met_on_time(dashboard):
    # Twelve needs recorded in 2025 on the partnership's cases (n11 on c13, opened in
    # 2024, counts: it was recorded in 2025).
    table = dashboard.table("needs_by_category_and_status")
    columns = [column.key for column in table.columns]
    assert columns == ["identified", "in_progress", "met", "declined", "unmet"]
    assert rows(table) == {
        "safe_accommodation": (0, 1, 3, 0, 0, 4),
        "practical_help": (0, 0, 1, 0, 0, 1),
        "healthcare": (0, 0, 3, 0, 0, 3),
        "financial_support": (0, 0, 0, 0, 1, 1),
        "interpretation": (0, 0, 0, 1, 0, 1),
        "psychological_support": (0, 1, 0, 0, 0, 1),
        "legal_immigration": (1, 0, 0, 0, 0, 1),
        "legal_compensation": (0, 0, 0, 0, 0, 0),
        "transport": (0, 0, 0, 0, 0, 0),
        "children_education": (0, 0, 0, 0, 0, 0),
        "future_planning": (0, 0, 0, 0, 0, 0),
    }
    assert totals(table) == (1, 2, 7, 1, 1, 12)
    # Due: n1 n2 n3 n5 n7 n8 n9 n11 (not n4, n14: no target; n6 declined; n10 not yet
    # due). On time: n1 n9 n11 (n2 late; n5 last met late; n8 met on 1 July, London).
    assert share(dashboard.figure("needs_met_by_target_date")) == (3, 8)


def test_referrals_by_kind_with_their_rates(dashboard):
    table = dashboard.table("referrals_by_kind")
    columns = [column.key for column in table.columns]
    assert columns == [
        "sent",
        "accepted",
        "declined",
        "withdrawn",
        "expired",
        "completed",
        "ended",
    ]
    assert rows(table) == {
        "accommodation": (0, 2, 0, 0, 0, 1, 0, 3),
        "casework_support": (0, 1, 0, 0, 0, 0, 0, 1),
        "health": (0, 0, 2, 0, 0, 0, 0, 2),
        "legal_advice": (0, 0, 0, 0, 1, 0, 0, 1),
        "police_crime_report": (1, 0, 0, 1, 0, 0, 0, 2),
        "prosecution_file": (0, 0, 0, 0, 0, 0, 0, 0),
        "repatriation_support": (0, 0, 0, 0, 0, 0, 0, 0),
        "other": (0, 0, 0, 0, 0, 0, 0, 0),
    }
    assert totals(table) == (1, 3, 2, 1, 1, 1, 0, 9)
    figures = {row.key: row.figures for row in table.rows}
    # Answered in hours: accommodation 24, 2, 6; health 48, 2; casework support 72.
    # In time: all but the health referral answered after 48 h.
    acceptance, hours, in_time = figures["accommodation"]
    assert (share(acceptance), median(hours), share(in_time)) == ((3, 3), (6.0, 3), (3, 3))
    acceptance, hours, in_time = figures["health"]
    assert (share(acceptance), median(hours), share(in_time)) == ((0, 2), (25.0, 2), (1, 2))
    acceptance, hours, in_time = figures["casework_support"]
    assert (share(acceptance), median(hours), share(in_time)) == ((1, 1), (72.0, 1), (1, 1))
    acceptance, hours, in_time = figures["legal_advice"]  # expired unanswered
    assert (share(acceptance), median(hours), share(in_time)) == ((0, 0), (None, 0), (0, 1))
    acceptance, hours, in_time = figures["police_crime_report"]  # withdrawn, waiting
    assert (share(acceptance), median(hours), share(in_time)) == ((0, 0), (None, 0), (0, 0))
    # Overall: 4 of 6 answered accepted; hours 2 2 6 24 48 72 -> 15; 5 of the 6 answered
    # and the 1 expired were answered in time.
    acceptance, hours, in_time = table.total_figures
    assert (share(acceptance), median(hours), share(in_time)) == ((4, 6), (15.0, 6), (5, 7))


def test_referrals_waiting_past_their_deadline_now(dashboard):
    # c10's crime report (2025) and c13's accommodation (sent 2024: "now" ignores the
    # dates); c14's is not due yet; Southshire's never counts.
    table = dashboard.table("referrals_overdue_now")
    assert {key: value for key, value in rows(table).items() if value != (0,)} == {
        "accommodation": (1,),
        "police_crime_report": (1,),
    }
    assert totals(table) == (2,)


def test_nrm_decisions_days_to_rg_and_people_in_recovery(dashboard):
    table = dashboard.table("nrm_decisions")
    assert rows(table) == {
        "pending": (1, 0, 0, 1),
        "positive": (2, 1, 1, 4),
        "negative": (1, 0, 0, 1),
    }
    assert totals(table) == (4, 1, 1, 6)
    # Days to RG: 5, 14, 3, 10, and 7 for c10 (submitted 1 July in London).
    assert median(dashboard.figure("median_days_to_rg")) == (7.0, 5)
    # Positive RG, CG pending: c2, c10 and c13 (twice: one person), whatever the dates.
    recovery = dashboard.figure("people_in_recovery_period_now")
    assert isinstance(recovery, CountFigure) and recovery.value == 3


def test_evidence_requests_approval_rate_and_days_to_decide(dashboard):
    table = dashboard.table("evidence_requests_by_status")
    assert rows(table) == {
        "pending": (1,),
        "approved": (1,),
        "partly_approved": (1,),
        "declined": (1,),
        "withdrawn": (1,),
        "expired": (1,),
        "revoked": (1,),
    }
    assert totals(table) == (7,)
    # Approved (in full, in part, since expired or revoked) 4 of the 5 decided; days to
    # decide 2, 1, 5, 3, 4.
    assert share(dashboard.figure("evidence_approval_rate")) == (4, 5)
    assert median(dashboard.figure("median_days_to_decide_evidence")) == (3.0, 5)


def test_justice_funnel_of_the_cases_opened(dashboard):
    # c1 (twice recorded, counted once): crime, file, charge, conviction; c2 crime and
    # file; c4 crime; c5 nothing; c10 crime, file, charge (acquitted). c13 (opened 2024)
    # and c16 (Southshire) do not count.
    table = dashboard.table("justice_funnel")
    assert rows(table) == {
        "crime_recorded": (4, 8, 12),
        "file_to_prosecutors": (3, 9, 12),
        "charged": (2, 10, 12),
        "convicted": (1, 11, 12),
    }
    assert share(dashboard.figure("files_to_prosecutors_share_of_cases")) == (3, 12)


def test_intelligence_by_agency_kind_and_grading(dashboard):
    # Submitted in 2025 by the partnership: i1 i2 i3 (police), i4 (Harbour), i6 (Council).
    # Not the draft i5, i7 (2024) or i8 (Southshire's police).
    by_kind = dashboard.table("intelligence_by_agency_kind")
    assert rows(by_kind) == {
        "police": (3,),
        "social_services": (1,),
        "charity": (1,),
        "prosecution": (0,),
    }
    assert totals(by_kind) == (5,)
    grading = dashboard.table("intelligence_by_grading")
    assert rows(grading) == {
        "1": (2, 0, 0, 0, 0, 2),
        "2": (0, 2, 0, 0, 0, 2),
        "3": (0, 0, 1, 0, 0, 1),
    }
    assert totals(grading) == (2, 2, 1, 0, 0, 5)


def test_premises_visits_and_the_share_with_labour_abuse(dashboard):
    table = dashboard.table("premises_visits")
    columns = [column.key for column in table.columns]
    assert columns == ["no_concerns", "labour_abuse", "potential_victims", "intelligence_submitted"]
    assert rows(table) == {
        "farm": (1, 1, 0, 0, 2),
        "car_wash": (1, 0, 1, 0, 2),
        "nail_bar": (0, 0, 0, 1, 1),
        "factory": (0, 0, 0, 0, 0),
        "construction_site": (0, 0, 0, 0, 0),
        "restaurant": (0, 0, 0, 0, 0),
        "residential": (0, 0, 0, 0, 0),
        "other": (0, 0, 0, 0, 0),
    }
    assert totals(table) == (2, 1, 1, 1, 5)
    shares = {row.key: share(row.figures[0]) for row in table.rows}
    assert shares["farm"] == (1, 2)
    assert shares["car_wash"] == (1, 2)  # potential victims found counts as abuse
    assert shares["nail_bar"] == (0, 1)
    assert share(table.total_figures[0]) == (2, 5)


def test_the_agency_dashboard_counts_the_cases_the_agency_leads(data, harbour, year):
    from dashboards.scope import Scope

    dashboard = build_dashboard(Scope.of_agency(harbour), year)
    # c1-c6 and c11.
    assert totals(dashboard.table("cases_by_month")) == (7, 4)
    # Referrals on Harbour's cases: c1 (2), c2 (2), c4, c5; none is waiting.
    assert totals(dashboard.table("referrals_by_kind"))[-1] == 6
    # Harbour's own intelligence (i4) and visit (car wash).
    assert rows(dashboard.table("intelligence_by_agency_kind")) == {"charity": (1,)}
    assert totals(dashboard.table("premises_visits")) == (1, 0, 0, 0, 1)
