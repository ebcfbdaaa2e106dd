"""Measures of referrals between agencies and of referrals to the National Referral
Mechanism, on the cases the dashboard counts."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from referrals.models import Decision, NRMReferral, Referral, ReferralKind, ReferralStatus

from ..filters import Filters
from ..scope import Scope
from ..tables import TOTAL, CellRef, Column, CountFigure, Median, Row, Section, Share, Table
from .sql import DaysBetween, MedianOf, case_q, hours
from .tabulate import crosstab, grouped_counts, single_column

# A referral ended because its agencies' agreement lapsed had been accepted first.
ANSWERED = (
    ReferralStatus.ACCEPTED,
    ReferralStatus.COMPLETED,
    ReferralStatus.ENDED,
    ReferralStatus.DECLINED,
)
ACCEPTED = (ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED, ReferralStatus.ENDED)


# --- Referrals -----------------------------------------------------------------------------


def _referral_aggregates() -> dict[str, Any]:
    answered = Q(status__in=ANSWERED, answered_at__isnull=False)
    return {
        "answered": Count("pk", filter=answered),
        "in_time": Count("pk", filter=answered & Q(answered_at__lte=F("respond_by"))),
        "median_hours": MedianOf(hours("sent_at", "answered_at"), filter=answered),
    }


def _referral_figures(
    table: str, row: str, counts: dict[str, int], agg: dict[str, Any]
) -> tuple[Share, Median, Share]:
    """A row's acceptance rate, median hours to answer and share answered in time, each
    naming the row's cells it is computed from."""

    def cells(*statuses: str) -> tuple[CellRef, ...]:
        return tuple(CellRef(table, row, status) for status in statuses)

    accepted = sum(counts[s] for s in ACCEPTED)
    closed = sum(counts[s] for s in ANSWERED) + counts[ReferralStatus.EXPIRED]
    return (
        Share(
            f"acceptance_rate_{row}",
            _("Acceptance rate"),
            accepted,
            sum(counts[s] for s in ANSWERED),
            cells(*ANSWERED),
            cells(*ANSWERED),
        ),
        Median(
            f"median_hours_to_answer_{row}",
            _("Median hours to answer"),
            agg["median_hours"],
            agg["answered"],
            "hours",
            cells(*ANSWERED),
        ),
        Share(
            f"answered_in_time_{row}",
            _("Answered in time"),
            agg["in_time"],
            closed,
            cells(*ANSWERED, ReferralStatus.EXPIRED),
            cells(*ANSWERED, ReferralStatus.EXPIRED),
        ),
    )


def referral_measures(scope: Scope, filters: Filters) -> Section:
    """Referrals sent in the period by kind and status, with the acceptance rate (accepted
    or completed, of those answered), the median hours to answer, and the share answered
    in time (of those answered or expired unanswered); referrals waiting past their
    deadline now, by kind. Three queries."""
    referrals = Referral.objects.filter(
        case_q(scope, filters, "case__"), filters.during("sent_at")
    ).order_by()
    per_kind = {
        row["kind"]: row
        for row in referrals.values("kind").annotate(
            **{f"status_{s}": Count("pk", filter=Q(status=s)) for s in ReferralStatus.values},
            **_referral_aggregates(),
        )
    }
    overall = referrals.aggregate(**_referral_aggregates())
    key = "referrals_by_kind"
    rows = []
    for kind, label in ReferralKind.choices:
        found = per_kind.get(kind, {})
        counts = {s: found.get(f"status_{s}", 0) for s in ReferralStatus.values}
        agg = {
            "answered": found.get("answered", 0),
            "in_time": found.get("in_time", 0),
            "median_hours": found.get("median_hours"),
        }
        values = tuple(counts[s] for s in ReferralStatus.values)
        rows.append(
            Row(kind, str(label), values, sum(values), _referral_figures(key, kind, counts, agg))
        )
    column_totals = tuple(
        sum(row.values[i] for row in rows) for i in range(len(ReferralStatus.values))
    )
    totals = dict(zip(ReferralStatus.values, column_totals, strict=True))
    by_kind = Table(
        key=key,
        title=_("Referrals by kind and status"),
        row_header=_("Kind"),
        columns=tuple(Column(s, str(label)) for s, label in ReferralStatus.choices),
        rows=tuple(rows),
        column_totals=column_totals,
        grand_total=sum(column_totals),
        total_label=_("Total"),
        figure_columns=(
            Column("acceptance_rate", _("Acceptance rate")),
            Column("median_hours_to_answer", _("Median hours to answer")),
            Column("answered_in_time", _("Answered in time")),
        ),
        total_figures=_referral_figures(key, TOTAL, totals, overall),
        note=_("Referrals sent in the period, on the cases the dashboard counts."),
    )
    overdue = grouped_counts(
        Referral.objects.filter(
            case_q(scope, filters, "case__"),
            status=ReferralStatus.SENT,
            respond_by__lt=timezone.now(),
        )
        .values("kind")
        .annotate(n=Count("pk"))
        .order_by(),
        "kind",
    )
    overdue_now = single_column(
        "referrals_overdue_now",
        _("Referrals waiting past their deadline now"),
        _("Kind"),
        Column("overdue", _("Waiting past their deadline")),
        [(kind, str(label), overdue[(kind,)]) for kind, label in ReferralKind.choices],
        note=_("Now, whenever they were sent."),
    )
    return Section(key="referrals", title=_("Referrals"), tables=(by_kind, overdue_now))


# --- NRM -------------------------------------------------------------------------------------


def nrm_measures(scope: Scope, filters: Filters) -> Section:
    """NRM referrals submitted in the period by Reasonable Grounds and Conclusive Grounds
    decision, the median days from referral to the RG decision, and the people in a
    recovery period now (a positive RG and no CG decision yet: support continues until
    the CG decision). Two queries."""
    nrm = NRMReferral.objects.filter(
        case_q(scope, filters, "case__"), filters.during("submitted_at")
    ).order_by()
    decided = Q(rg_decision__in=[Decision.POSITIVE, Decision.NEGATIVE], rg_decided_on__isnull=False)
    aggregates: dict[str, Any] = {
        f"{rg}_{cg}": Count("pk", filter=Q(rg_decision=rg, cg_decision=cg))
        for rg in Decision.values
        for cg in Decision.values
    }
    aggregates["rg_decided"] = Count("pk", filter=decided)
    aggregates["median_days"] = MedianOf(
        DaysBetween(F("rg_decided_on"), TruncDate("submitted_at")), filter=decided
    )
    result = nrm.aggregate(**aggregates)
    counts = Counter(
        {(rg, cg): result[f"{rg}_{cg}"] for rg in Decision.values for cg in Decision.values}
    )
    key = "nrm_decisions"
    table = crosstab(
        key,
        _("NRM referrals by Reasonable Grounds (rows) and Conclusive Grounds decision"),
        _("Reasonable Grounds"),
        [(d, _("RG %s") % str(label).lower()) for d, label in Decision.choices],
        [(d, _("CG %s") % str(label).lower()) for d, label in Decision.choices],
        counts,
        note=_("NRM referrals submitted in the period."),
    )
    median = Median(
        "median_days_to_rg",
        _("Median days from referral to the Reasonable Grounds decision"),
        result["median_days"],
        result["rg_decided"],
        "days",
        (
            CellRef(key, Decision.POSITIVE, TOTAL),
            CellRef(key, Decision.NEGATIVE, TOTAL),
        ),
    )
    in_recovery = NRMReferral.objects.filter(
        case_q(scope, filters, "case__"),
        rg_decision=Decision.POSITIVE,
        cg_decision=Decision.PENDING,
    ).aggregate(people=Count("case", distinct=True))["people"]
    recovery = CountFigure(
        "people_in_recovery_period_now",
        _("People in a recovery period now"),
        in_recovery,
        note=_("A positive Reasonable Grounds decision and no Conclusive Grounds one yet."),
    )
    return Section(
        key="nrm",
        title=_("National Referral Mechanism"),
        tables=(table,),
        figures=(median, recovery),
    )
