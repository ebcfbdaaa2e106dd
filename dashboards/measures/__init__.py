"""Every dashboard number, counted in SQL.

One function per group of measures (``cases``, ``referrals``, ``intelligence``) returns a
``Section`` of raw tables and figures (``dashboards.tables``); ``build_dashboard``
collects them. Each is a fixed number of aggregate queries (``GROUP BY`` or conditional
``COUNT ... FILTER``, medians with ``percentile_cont(0.5) WITHIN GROUP``): 14 queries for
a whole dashboard whatever the size of the caseload, and Python only ever arranges the
grouped results (``tabulate``). Nothing here is fit to show until
``suppression.publish`` has been applied.

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

from django.utils import timezone

from .. import suppression
from ..filters import Filters
from ..scope import Scope
from ..tables import Dashboard
from .cases import case_measures, evidence_measures, justice_measures, need_measures
from .intelligence import intelligence_measures
from .referrals import nrm_measures, referral_measures
from .sql import counted_agency_ids


def build_dashboard(scope: Scope, filters: Filters) -> Dashboard:
    """Every measure for ``scope`` under ``filters``: 14 queries. Exact numbers, built for
    the current suppression threshold, to be published through ``suppression.publish``
    and never shown as they are."""
    counted_agency_ids(scope, filters)  # refuse an agency outside the scope before any query
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
