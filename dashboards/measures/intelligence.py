"""Measures of intelligence: reports submitted, counted for their originating agency, and
premises visits, counted for the agency whose staff made them."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from agencies.models import AgencyKind
from intelligence.models import (
    IntelligenceAssessment,
    IntelligenceReport,
    PremisesType,
    PremisesVisit,
    SourceEvaluation,
    VisitOutcome,
)

from ..filters import Filters
from ..scope import Scope
from ..tables import TOTAL, CellRef, Column, Link, Row, Section, Share, Table
from .sql import counted_agency_ids
from .tabulate import crosstab, grouped_counts, single_column

REPORTS_SUBMITTED = "reports_submitted"
# Premises visits that found labour abuse (finding potential victims is worse, and counts).
LABOUR_ABUSE_OUTCOMES = (VisitOutcome.LABOUR_ABUSE, VisitOutcome.POTENTIAL_VICTIMS)


def intelligence_measures(scope: Scope, filters: Filters) -> Section:
    """Intelligence reports submitted in the period (drafts never count) by the kind of
    their originating agency and by grading (source evaluation x intelligence
    assessment); premises visits made in the period by premises type and outcome, with
    the share that found labour-abuse issues. Two queries."""
    agencies = counted_agency_ids(scope, filters)
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
    grouped = grouped_counts(
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
    kind_table = single_column(
        "intelligence_by_agency_kind",
        _("Intelligence reports by originating agency kind"),
        _("Agency kind"),
        Column("reports", _("Reports submitted")),
        [(k, str(label), by_kind[k]) for k, label in AgencyKind.choices if k in kinds_in_scope],
        links=(Link(TOTAL, "reports", REPORTS_SUBMITTED),),
    )
    grading_table = crosstab(
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
    counts = grouped_counts(
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

    table = crosstab(
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
