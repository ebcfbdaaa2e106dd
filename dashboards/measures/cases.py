"""Measures of cases and what is on them: cases opened and closed, their profiles, needs,
evidence requests and the criminal-justice outcomes of the cases opened.

Case profiles (exploitation types, ages, nationalities, risk levels) describe the cases
opened in the period; the justice funnel follows those same cases to date, so its share of
cases sent to prosecutors is a share of one cohort.
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.translation import gettext as _
from django_countries import countries

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

from .. import suppression
from ..filters import Filters
from ..scope import Scope
from ..tables import TOTAL, CellRef, Column, Link, Median, Row, Section, Share, Table
from .sql import MedianOf, case_q, cases_opened, days
from .tabulate import crosstab, grouped_counts, single_column

# The number of cases opened in the period, shown in several tables (see ``Link``).
CASES_OPENED = "cases_opened"
TOP_NATIONALITIES = 10

# An evidence request that expired or was revoked had been approved first.
EVIDENCE_APPROVED = (
    EvidenceRequestStatus.APPROVED,
    EvidenceRequestStatus.PARTLY_APPROVED,
    EvidenceRequestStatus.EXPIRED,
    EvidenceRequestStatus.REVOKED,
)
EVIDENCE_DECIDED = (*EVIDENCE_APPROVED, EvidenceRequestStatus.DECLINED)


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
    opened = grouped_counts(
        cases.filter(filters.during("opened_at"))
        .annotate(month=TruncMonth("opened_at"))
        .values("month")
        .annotate(n=Count("pk")),
        "month",
    )
    closed = grouped_counts(
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
    by_age = single_column(
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
    by_risk = single_column(
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
    counts = grouped_counts(
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
    return single_column(
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
    table = crosstab(
        "needs_by_category_and_status",
        _("Needs by category and status"),
        _("Need"),
        NeedCategory.choices,
        NeedStatus.choices,
        grouped_counts(grouped, "category", "status"),
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
    table = single_column(
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
