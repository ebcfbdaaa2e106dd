"""Every dashboard number, counted in SQL.

One function per group of measures returns a ``Section`` of raw tables and figures
(``dashboards.tables``); ``build_dashboard`` collects them. Each is a fixed number of
aggregate queries (``GROUP BY`` or conditional ``COUNT ... FILTER``, medians with
``percentile_cont(0.5) WITHIN GROUP``): 14 queries for a whole dashboard whatever the
size of the caseload, and Python only ever arranges the grouped results. Nothing here is
fit to show until ``suppression.publish`` has been applied.

What counts, and for whom:

- A case, and everything on it (needs, referrals, NRM referrals, evidence requests,
  justice outcomes), counts for the agency that leads the case now; the agency filter
  means that agency. Intelligence counts for its originating agency, a premises visit for
  the agency whose staff made it.
- Dates (``filters``) apply to each measure's own date. Case profiles (exploitation
  types, ages, nationalities, risk levels) describe the cases opened in the period; the
  justice funnel follows those same cases to date, so its share of cases sent to
  prosecutors is a share of one cohort. "Now" counts ignore the dates.
- Output carries labels from choices, agency kinds, months and country names, never a
  name, a reference or free text.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import (
    Aggregate,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.translation import gettext as _
from django_countries import countries

from agencies.models import AgencyKind
from casework.models import (
    Case,
    CourtOutcome,
    EvidenceAccessRequest,
    EvidenceRequestStatus,
    ExploitationType,
    Need,
    NeedCategory,
    NeedStatus,
    NeedStatusChange,
    RiskLevel,
)
from intelligence.models import (
    IntelligenceAssessment,
    IntelligenceReport,
    PremisesType,
    PremisesVisit,
    SourceEvaluation,
    VisitOutcome,
)
from referrals.models import Decision, NRMReferral, Referral, ReferralKind, ReferralStatus

from . import suppression
from .filters import Filters
from .scope import Scope
from .tables import (
    TOTAL,
    CellRef,
    Column,
    CountFigure,
    Dashboard,
    Link,
    Median,
    Row,
    Section,
    Share,
    Table,
)

# The number of cases opened in the period, shown in several tables (see ``Link``).
CASES_OPENED = "cases_opened"
REPORTS_SUBMITTED = "reports_submitted"
TOP_NATIONALITIES = 10

# A referral ended because its agencies' agreement lapsed had been accepted first.
ANSWERED = (
    ReferralStatus.ACCEPTED,
    ReferralStatus.COMPLETED,
    ReferralStatus.ENDED,
    ReferralStatus.DECLINED,
)
ACCEPTED = (ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED, ReferralStatus.ENDED)
# An evidence request that expired or was revoked had been approved first.
EVIDENCE_APPROVED = (
    EvidenceRequestStatus.APPROVED,
    EvidenceRequestStatus.PARTLY_APPROVED,
    EvidenceRequestStatus.EXPIRED,
    EvidenceRequestStatus.REVOKED,
)
EVIDENCE_DECIDED = (*EVIDENCE_APPROVED, EvidenceRequestStatus.DECLINED)
# Premises visits that found labour abuse (finding potential victims is worse, and counts).
LABOUR_ABUSE_OUTCOMES = (VisitOutcome.LABOUR_ABUSE, VisitOutcome.POTENTIAL_VICTIMS)


# --- SQL helpers -----------------------------------------------------------------------


class MedianOf(Aggregate):
    """``percentile_cont(0.5) WITHIN GROUP (ORDER BY expr)``: the median, interpolated."""

    function = "percentile_cont"
    name = "MedianOf"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class Seconds(Func):
    """The length of an interval in seconds."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


class DaysBetween(Func):
    """``later - earlier`` for two dates: whole days."""

    template = "(%(expressions)s)"
    arg_joiner = " - "
    output_field = IntegerField()

    def __init__(self, later: Any, earlier: Any) -> None:
        super().__init__(later, earlier)


def hours(start: str, end: str) -> Any:
    return Seconds(F(end) - F(start)) / 3600.0


def days(start: str, end: str) -> Any:
    return Seconds(F(end) - F(start)) / 86400.0


# --- Scoping and filtering --------------------------------------------------------------


def _agency_ids(scope: Scope, filters: Filters) -> tuple[int, ...]:
    if filters.agency_id is None:
        return scope.agency_ids
    if filters.agency_id not in scope.agency_ids:
        # The form refuses this first; a caller that built Filters by hand gets no data.
        raise ValueError(f"agency {filters.agency_id} is not in the dashboard's scope")
    return (filters.agency_id,)


def case_q(scope: Scope, filters: Filters, prefix: str = "") -> Q:
    """The cases that count (their lead agency, region and type), seen through ``prefix``
    (``"case__"`` from a need, a referral...)."""
    q = Q(**{f"{prefix}lead_agency_id__in": _agency_ids(scope, filters)})
    if filters.region:
        q &= Q(**{f"{prefix}region__iexact": filters.region})
    if filters.exploitation_type:
        q &= Q(**{f"{prefix}exploitation_types__contains": [filters.exploitation_type]})
    return q


def cases_opened(scope: Scope, filters: Filters) -> QuerySet[Case]:
    return Case.objects.filter(case_q(scope, filters), filters.during("opened_at")).order_by()


def _counts(rows: Iterable[dict[str, Any]], *keys: str) -> Counter[tuple[Any, ...]]:
    """Grouped query results as {(key values...): n}."""
    found: Counter[tuple[Any, ...]] = Counter()
    for row in rows:
        found[tuple(row[key] for key in keys)] += row["n"]
    return found


def _crosstab(
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


def _single_column(
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


# --- Months -------------------------------------------------------------------------------


def _month_starts(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    months = []
    index = first.year * 12 + first.month - 1
    end = last.year * 12 + last.month - 1
    while index <= end:
        months.append(datetime.date(index // 12, index % 12 + 1, 1))
        index += 1
    return months


def _month_of(value: datetime.datetime | datetime.date) -> datetime.date:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.date().replace(day=1)
    return value.replace(day=1)


# --- Cases ---------------------------------------------------------------------------------


def case_measures(scope: Scope, filters: Filters, t: int | None = None) -> Section:
    """Cases opened and closed by month; the cases opened in the period by exploitation
    type and county lines, adult or child, nationality and risk level. Four queries."""
    cases = Case.objects.filter(case_q(scope, filters)).order_by()
    opened = _counts(
        cases.filter(filters.during("opened_at"))
        .annotate(month=TruncMonth("opened_at"))
        .values("month")
        .annotate(n=Count("pk")),
        "month",
    )
    closed = _counts(
        cases.filter(filters.during("closed_at"), closed_at__isnull=False)
        .annotate(month=TruncMonth("closed_at"))
        .values("month")
        .annotate(n=Count("pk")),
        "month",
    )
    opened_by_month = Counter({_month_of(k[0]): n for k, n in opened.items()})
    closed_by_month = Counter({_month_of(k[0]): n for k, n in closed.items()})
    seen = sorted(set(opened_by_month) | set(closed_by_month))
    first = filters.date_from or (seen[0] if seen else None)
    last = filters.date_to or (seen[-1] if seen else None)
    months = _month_starts(first, last) if first and last else []
    by_month = Table(
        key="cases_by_month",
        title=_("Cases opened and closed by month"),
        row_header=_("Month"),
        columns=(Column("opened", _("Opened")), Column("closed", _("Closed"))),
        rows=tuple(
            Row(
                month.strftime("%Y-%m"),
                format_date(month, "F Y"),
                (opened_by_month[month], closed_by_month[month]),
            )
            for month in months
        ),
        column_totals=(sum(opened_by_month.values()), sum(closed_by_month.values())),
        total_label=_("Total"),
        links=(Link(TOTAL, "opened", CASES_OPENED),),
        note=_("Closed: cases closed in the period, whenever they were opened."),
    )

    # One pass over the cases opened in the period for every profile.
    aggregates: dict[str, Any] = {"all": Count("pk")}
    for kind in ExploitationType.values:
        for county_lines in (False, True):
            aggregates[f"type_{kind}_{county_lines}"] = Count(
                "pk", filter=Q(exploitation_types__contains=[kind], county_lines=county_lines)
            )
    for county_lines in (False, True):
        aggregates[f"type_none_{county_lines}"] = Count(
            "pk", filter=Q(exploitation_types=[], county_lines=county_lines)
        )
        aggregates[f"county_lines_{county_lines}"] = Count(
            "pk", filter=Q(county_lines=county_lines)
        )
    for child in (False, True):
        aggregates[f"child_{child}"] = Count("pk", filter=Q(is_child=child))
    for level in RiskLevel.values:
        aggregates[f"risk_{level}"] = Count("pk", filter=Q(risk_level=level))
    profile = cases.filter(filters.during("opened_at")).aggregate(**aggregates)

    type_rows = []
    for kind, label in [*ExploitationType.choices, ("none", _("None recorded"))]:
        values = (profile[f"type_{kind}_False"], profile[f"type_{kind}_True"])
        type_rows.append(Row(kind, str(label), values, total=sum(values)))
    by_type = Table(
        key="cases_by_exploitation_type",
        title=_("Cases opened by exploitation type and county lines"),
        row_header=_("Exploitation type"),
        columns=(
            Column("not_county_lines", _("Not county lines")),
            Column("county_lines", _("County lines")),
        ),
        rows=tuple(type_rows),
        column_totals=(profile["county_lines_False"], profile["county_lines_True"]),
        grand_total=profile["all"],
        total_label=_("Cases (each counted once)"),
        links=(Link(TOTAL, TOTAL, CASES_OPENED),),
        additive=False,
        note=_("A case counts under each of its exploitation types."),
    )
    opened_column = Column("cases", _("Cases opened"))
    by_age = _single_column(
        "cases_by_age",
        _("Adults and children"),
        _("Age now"),
        opened_column,
        [
            ("adult", _("Adult"), profile["child_False"]),
            ("child", _("Child (under 18)"), profile["child_True"]),
        ],
        links=(Link(TOTAL, "cases", CASES_OPENED),),
    )
    by_risk = _single_column(
        "cases_by_risk_level",
        _("Risk levels"),
        _("Risk level"),
        opened_column,
        [(level, str(label), profile[f"risk_{level}"]) for level, label in RiskLevel.choices],
        links=(Link(TOTAL, "cases", CASES_OPENED),),
        note=_("The risk level recorded on the case now."),
    )
    return Section(
        key="cases",
        title=_("Cases"),
        tables=(by_month, by_type, by_age, _nationalities(cases, filters, t), by_risk),
    )


def _nationalities(cases: QuerySet[Case], filters: Filters, t: int | None) -> Table:
    """The most frequent nationalities with at least the threshold's number of cases; the
    rest together, so a rare nationality is never named."""
    t = suppression.threshold() if t is None else t
    counts = _counts(
        cases.filter(filters.during("opened_at")).values("nationality").annotate(n=Count("pk")),
        "nationality",
    )
    recorded = {code: n for (code,), n in counts.items() if code}
    named = sorted(
        ((code, n) for code, n in recorded.items() if n >= t),
        key=lambda item: (-item[1], countries.name(item[0]) or item[0]),
    )[:TOP_NATIONALITIES]
    named_codes = {code for code, _ in named}
    rows = [(code, countries.name(code) or code, n) for code, n in named]
    rows.append(
        (
            "other",
            _("Other nationalities"),
            sum(n for code, n in recorded.items() if code not in named_codes),
        )
    )
    rows.append(("not_recorded", _("Not recorded"), counts[("",)]))
    return _single_column(
        "cases_by_nationality",
        _("Top nationalities"),
        _("Nationality"),
        Column("cases", _("Cases opened")),
        rows,
        links=(Link(TOTAL, "cases", CASES_OPENED),),
        note=_("Nationalities with fewer cases than the suppression threshold are not named."),
    )


# --- Needs -----------------------------------------------------------------------------------


def need_measures(scope: Scope, filters: Filters) -> Section:
    """Needs recorded in the period by category and status, and the share met by their
    target date. One query (the share's counts ride on the same GROUP BY).

    A need is due when it has a target date, was not declined by the person, and is met
    or past its target date; it was met on time when it is met and last became met on or
    before its target date (its status history, in local dates).
    """
    today = timezone.localdate()
    became_met = NeedStatusChange.objects.filter(need=OuterRef("pk"), to_status=NeedStatus.MET)
    due = (
        Q(target_date__isnull=False)
        & ~Q(status=NeedStatus.DECLINED)
        & (Q(status=NeedStatus.MET) | Q(target_date__lt=today))
    )
    met_on_time = (
        due
        & Q(status=NeedStatus.MET)
        & Exists(became_met.filter(changed_at__date__lte=OuterRef("target_date")))
        & ~Exists(became_met.filter(changed_at__date__gt=OuterRef("target_date")))
    )
    grouped = list(
        Need.objects.filter(case_q(scope, filters, "case__"), filters.during("created_at"))
        .values("category", "status")
        .annotate(
            n=Count("pk"), due=Count("pk", filter=due), on_time=Count("pk", filter=met_on_time)
        )
        .order_by()
    )
    table = _crosstab(
        "needs_by_category_and_status",
        _("Needs by category and status"),
        _("Need"),
        NeedCategory.choices,
        NeedStatus.choices,
        _counts(grouped, "category", "status"),
        note=_("Needs recorded in the period."),
    )
    share = Share(
        "needs_met_by_target_date",
        _("Needs met by their target date"),
        sum(row["on_time"] for row in grouped),
        sum(row["due"] for row in grouped),
        note=_(
            "Of the needs with a target date that are met or past it (declined needs left out)."
        ),
    )
    return Section(key="needs", title=_("Needs"), tables=(table,), figures=(share,))


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
    overdue = _counts(
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
    overdue_now = _single_column(
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
    table = _crosstab(
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


# --- Evidence --------------------------------------------------------------------------------


def evidence_measures(scope: Scope, filters: Filters) -> Section:
    """Evidence requests made in the period by status, the approval rate (approved, fully
    or partly, of those decided; an approval that later expired or was revoked counts as
    approved) and the median days to decide. One query."""
    decided = Q(status__in=EVIDENCE_DECIDED, decided_at__isnull=False)
    aggregates: dict[str, Any] = {
        s: Count("pk", filter=Q(status=s)) for s in EvidenceRequestStatus.values
    }
    aggregates["decided"] = Count("pk", filter=decided)
    aggregates["median_days"] = MedianOf(days("requested_at", "decided_at"), filter=decided)
    result = (
        EvidenceAccessRequest.objects.filter(
            case_q(scope, filters, "case__"), filters.during("requested_at")
        )
        .order_by()
        .aggregate(**aggregates)
    )
    key = "evidence_requests_by_status"
    table = _single_column(
        key,
        _("Evidence requests by status"),
        _("Status"),
        Column("requests", _("Requests")),
        [(s, str(label), result[s]) for s, label in EvidenceRequestStatus.choices],
        note=_("Requests made in the period."),
    )
    cells = tuple(CellRef(key, s, "requests") for s in EVIDENCE_DECIDED)
    approval = Share(
        "evidence_approval_rate",
        _("Approval rate"),
        sum(result[s] for s in EVIDENCE_APPROVED),
        sum(result[s] for s in EVIDENCE_DECIDED),
        cells,
        cells,
        note=_("Approved in full or in part, of the requests decided."),
    )
    median = Median(
        "median_days_to_decide_evidence",
        _("Median days to decide"),
        result["median_days"],
        result["decided"],
        "days",
        cells,
    )
    return Section(
        key="evidence", title=_("Evidence requests"), tables=(table,), figures=(approval, median)
    )


# --- Justice ---------------------------------------------------------------------------------


JUSTICE_STAGES = (
    ("crime_recorded", Q(justice_outcomes__crime_recorded=True)),
    ("file_to_prosecutors", Q(justice_outcomes__referred_to_prosecutor_on__isnull=False)),
    ("charged", Q(justice_outcomes__charged_on__isnull=False)),
    ("convicted", Q(justice_outcomes__court_outcome=CourtOutcome.CONVICTED)),
)


def justice_measures(scope: Scope, filters: Filters) -> Section:
    """Where the cases opened in the period fall away: how many have a crime recorded,
    a file sent to prosecutors, a charge and a conviction (any outcome recorded on the
    case, to date), and files to prosecutors as a share of the cases. One query: the
    cases joined to their outcomes, each case counted once per stage (a correlated
    EXISTS per case and stage was 2.5 times slower at 40,000 cases)."""
    aggregates: dict[str, Any] = {"cases": Count("pk", distinct=True)}
    for stage, condition in JUSTICE_STAGES:
        aggregates[stage] = Count("pk", distinct=True, filter=condition)
    result = cases_opened(scope, filters).aggregate(**aggregates)
    labels = {
        "crime_recorded": _("Crime recorded"),
        "file_to_prosecutors": _("File sent to prosecutors"),
        "charged": _("Charged"),
        "convicted": _("Convicted"),
    }
    key = "justice_funnel"
    cases = result["cases"]
    table = Table(
        key=key,
        title=_("Criminal-justice outcomes of the cases opened in the period"),
        row_header=_("Stage"),
        columns=(Column("yes", _("Yes")), Column("no", _("Not (yet)"))),
        rows=tuple(
            Row(stage, str(labels[stage]), (result[stage], cases - result[stage]), total=cases)
            for stage, _ in JUSTICE_STAGES
        ),
        links=tuple(Link(stage, TOTAL, CASES_OPENED) for stage, _ in JUSTICE_STAGES),
        note=_("Each case counted once per stage, whatever the number of outcomes recorded."),
    )
    share = Share(
        "files_to_prosecutors_share_of_cases",
        _("Files to prosecutors as a share of cases"),
        result["file_to_prosecutors"],
        cases,
        (CellRef(key, "file_to_prosecutors", "yes"), CellRef(key, "file_to_prosecutors", TOTAL)),
        (CellRef(key, "file_to_prosecutors", TOTAL),),
    )
    return Section(key="justice", title=_("Criminal justice"), tables=(table,), figures=(share,))


# --- Intelligence ----------------------------------------------------------------------------


def intelligence_measures(scope: Scope, filters: Filters) -> Section:
    """Intelligence reports submitted in the period (drafts never count) by the kind of
    their originating agency and by grading (source evaluation x intelligence
    assessment); premises visits made in the period by premises type and outcome, with
    the share that found labour-abuse issues. Two queries."""
    agencies = _agency_ids(scope, filters)
    reports = IntelligenceReport.objects.filter(
        originating_agency_id__in=agencies,
        submitted_at__isnull=False,
        **({"area__iexact": filters.region} if filters.region else {}),
        **(
            {"exploitation_types__contains": [filters.exploitation_type]}
            if filters.exploitation_type
            else {}
        ),
    ).filter(filters.during("submitted_at"))
    grouped = _counts(
        reports.values("originating_agency__kind", "source_evaluation", "intelligence_assessment")
        .annotate(n=Count("pk"))
        .order_by(),
        "originating_agency__kind",
        "source_evaluation",
        "intelligence_assessment",
    )
    by_kind: Counter[str] = Counter()
    by_grading: Counter[tuple[Any, ...]] = Counter()
    for (kind, source, assessment), n in grouped.items():
        by_kind[kind] += n
        by_grading[(source, assessment)] += n
    kinds_in_scope = {a.kind for a in scope.agencies if a.id in agencies}
    kind_table = _single_column(
        "intelligence_by_agency_kind",
        _("Intelligence reports by originating agency kind"),
        _("Agency kind"),
        Column("reports", _("Reports submitted")),
        [(k, str(label), by_kind[k]) for k, label in AgencyKind.choices if k in kinds_in_scope],
        links=(Link(TOTAL, "reports", REPORTS_SUBMITTED),),
    )
    grading_table = _crosstab(
        "intelligence_by_grading",
        _("Intelligence reports by grading (source evaluation x intelligence assessment)"),
        _("Source evaluation"),
        SourceEvaluation.choices,
        [(code, code) for code in IntelligenceAssessment.values],
        by_grading,
        links=(Link(TOTAL, TOTAL, REPORTS_SUBMITTED),),
        note=_(
            "Columns: A known directly, B corroborated, C known indirectly, D not known, "
            "E suspected false."
        ),
    )
    return Section(
        key="intelligence",
        title=_("Intelligence"),
        tables=(kind_table, grading_table, _premises_visits(agencies, filters)),
    )


def _premises_visits(agencies: tuple[int, ...], filters: Filters) -> Table:
    visits = PremisesVisit.objects.filter(agency_id__in=agencies).filter(
        filters.during_dates("visited_on")
    )
    if filters.region:
        visits = visits.filter(
            Q(case__region__iexact=filters.region)
            | Q(case__isnull=True, report__area__iexact=filters.region)
        )
    if filters.exploitation_type:
        kind = [filters.exploitation_type]
        visits = visits.filter(
            Q(case__exploitation_types__contains=kind)
            | Q(case__isnull=True, report__exploitation_types__contains=kind)
        )
    counts = _counts(
        visits.values("premises_type", "outcome").annotate(n=Count("pk")).order_by(),
        "premises_type",
        "outcome",
    )
    key = "premises_visits"

    def abuse_share(row: str, numerator: int, denominator: int) -> Share:
        return Share(
            f"labour_abuse_share_{row}",
            _("Share with labour-abuse issues"),
            numerator,
            denominator,
            (
                *(CellRef(key, row, outcome) for outcome in LABOUR_ABUSE_OUTCOMES),
                CellRef(key, row, TOTAL),
            ),
            (CellRef(key, row, TOTAL),),
        )

    table = _crosstab(
        key,
        _("Premises visits by premises type and outcome"),
        _("Premises"),
        PremisesType.choices,
        VisitOutcome.choices,
        counts,
        note=_("Labour-abuse issues: a labour abuse issue or potential victims found."),
    )
    rows = tuple(
        Row(
            row.key,
            row.label,
            row.values,
            row.total,
            (
                abuse_share(
                    row.key,
                    sum(counts[(row.key, outcome)] for outcome in LABOUR_ABUSE_OUTCOMES),
                    row.total or 0,
                ),
            ),
        )
        for row in table.rows
    )
    abuse_total = sum(
        counts[(premises, outcome)]
        for premises in PremisesType.values
        for outcome in LABOUR_ABUSE_OUTCOMES
    )
    return Table(
        key=table.key,
        title=table.title,
        row_header=table.row_header,
        columns=table.columns,
        rows=rows,
        column_totals=table.column_totals,
        grand_total=table.grand_total,
        total_label=table.total_label,
        figure_columns=(Column("labour_abuse_share", _("Share with labour-abuse issues")),),
        total_figures=(abuse_share(TOTAL, abuse_total, table.grand_total or 0),),
        note=table.note,
    )


# --- The whole dashboard -----------------------------------------------------------------------


def build_dashboard(scope: Scope, filters: Filters) -> Dashboard:
    """Every measure for ``scope`` under ``filters``: 14 queries. Exact numbers, built for
    the current suppression threshold, to be published through ``suppression.publish``
    and never shown as they are."""
    _agency_ids(scope, filters)  # refuse an agency outside the scope before any query
    t = suppression.threshold()
    return Dashboard(
        scope=scope.info(),
        filters=filters.as_params(),
        generated_at=timezone.now(),
        sections=(
            case_measures(scope, filters, t),
            need_measures(scope, filters),
            referral_measures(scope, filters),
            nrm_measures(scope, filters),
            evidence_measures(scope, filters),
            justice_measures(scope, filters),
            intelligence_measures(scope, filters),
        ),
        threshold=t,
    )
