"""Every measure is an SQL aggregate: the whole dashboard is the same fixed number of
queries whatever the size of the caseload and whatever the filters."""

from __future__ import annotations

import datetime

from dashboards.filters import Filters
from dashboards.measures import build_dashboard
from dashboards.suppression import publish

from .dataset import CASES, at

QUERIES = 14


def _grow(data, copies: int) -> None:
    """Add ``copies`` more of every 2025 case of the partnership, each with a need, a
    referral, an NRM referral, an evidence request, an outcome and a visit."""
    from casework.models import Case, EvidenceAccessRequest, JusticeOutcome, Need
    from intelligence.models import PremisesVisit
    from referrals.models import NRMReferral, Referral

    p = data.people
    for n in range(copies):
        for key, spec in CASES.items():
            if spec["lead"] not in ("harbour", "council") or spec["opened"].year != 2025:
                continue
            case = Case.objects.create(
                reference=f"GROW-{n}-{key}",
                lead_agency=getattr(p, spec["lead"]),
                opened_at=spec["opened"],
                exploitation_types=spec["types"],
                nationality=spec["nat"],
                region=spec["region"],
            )
            Need.objects.create(
                case=case,
                category="healthcare",
                urgency=2,
                status="met",
                owner_agency=case.lead_agency,
                target_date=datetime.date(2025, 12, 1),
                created_by=p.caseworker,
                created_at=spec["opened"],
            )
            Referral.objects.create(
                case=case,
                from_agency=case.lead_agency,
                to_agency=p.police,
                kind="health",
                reason="x",
                status="accepted",
                sent_by=p.caseworker,
                sent_at=spec["opened"],
                respond_by=spec["opened"] + datetime.timedelta(days=5),
                answered_at=spec["opened"] + datetime.timedelta(hours=5),
            )
            NRMReferral.objects.create(
                case=case,
                agency=case.lead_agency,
                submitted_by=p.caseworker,
                submitted_at=spec["opened"],
                rg_decision="positive",
                rg_decided_on=spec["opened"].date() + datetime.timedelta(days=4),
            )
            EvidenceAccessRequest.objects.create(
                case=case,
                requested_by=p.officer,
                agency=p.police,
                purpose="x",
                legal_basis="x",
                status="approved",
                requested_at=spec["opened"],
                decided_at=spec["opened"] + datetime.timedelta(days=2),
            )
            JusticeOutcome.objects.create(
                case=case,
                recorded_by_agency=p.police,
                crime_recorded=True,
                recorded_at=at(2025, 9, 1),
            )
            PremisesVisit.objects.create(
                agency=p.police,
                premises_type="farm",
                postcode_district="NE1",
                visited_on=spec["opened"].date(),
                outcome="labour_abuse",
                recorded_by=p.officer,
                case=case,
            )


def test_the_dashboard_is_fourteen_queries_whatever_the_data(
    data, northshire, year, django_assert_num_queries
):
    with django_assert_num_queries(QUERIES):
        small = build_dashboard(northshire, year)
    _grow(data, copies=3)
    with django_assert_num_queries(QUERIES):
        large = build_dashboard(northshire, year)
    # The data did grow: 12 cases opened, then 12 + 3 x 12.
    assert small.table("cases_by_month").column_totals[0] == 12
    assert large.table("cases_by_month").column_totals[0] == 48


def test_filters_do_not_add_queries(data, northshire, council, django_assert_num_queries):
    filters = Filters(
        datetime.date(2025, 3, 1), datetime.date(2025, 9, 30), council.pk, "Northshire", "labour"
    )
    with django_assert_num_queries(QUERIES):
        build_dashboard(northshire, filters)


def test_publishing_runs_no_query(data, northshire, year, django_assert_num_queries):
    dashboard = build_dashboard(northshire, year)
    with django_assert_num_queries(0):
        publish(dashboard)
