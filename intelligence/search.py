"""Finding intelligence: the reader's audience, filtered and searched, in fixed queries.

The browser's list and search page and the API's list both call ``search_reports``; a
row is shown with ``visible_summary`` (never ``full_text`` or the source, which no list
or search shows to anyone).

What can be found is what can be read:

- only reports in the reader's audience (``audience.readable_reports``);
- words of the title and the summary only: ``search_vector`` is computed from those two
  columns, so a word that appears only in the full text or the source finds nothing,
  for every reader, the originating agency included (the full text is read on the
  report itself);
- a C report whose current conditions the reader has not acknowledged is found by the
  words of its title only, ranked by its title only, and shown without its summary: its
  summary is not theirs to read yet, and being found by a word of it (or left out by
  one, "car -passports") would tell them that the word is there
  (``ReportFilter.filter_q``).

Every page of a list or search writes one audit event, ``intelligence.searched``
(``record_search``, once the page is cut): ``report_ids`` holds the ids of the reports
on the page the reader was given, whose summaries they may have read there, so the
trail answers "who read report X" for lists as it does for the report's own page;
``filters`` holds the coded filters used and their values (grading, TLP, type, dates),
``text_filters`` the names of the free-text ones used (``q``, ``area``) without their
values, and ``results`` the number of reports found. The words typed are never stored:
a search for a person's name must not put that name in the trail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict

from audit.record import record

from . import audience
from .audit_actions import IntelligenceAction
from .filters import ReportFilter
from .models import IntelligenceReport

# Filters whose value may be free text (a name, an address): recorded as used, not stored.
_FREE_TEXT_FILTERS = frozenset({"q", "area"})


def search_reports(
    user: Any, params: QueryDict | Mapping[str, Any] | None
) -> tuple[ReportFilter, QuerySet[IntelligenceReport]]:
    """The reports ``user`` may read, filtered and searched by ``params``.

    Rows carry ``reader_is_originating`` and ``reader_must_acknowledge``
    (``audience.with_reader_state``) and, with words to search, ``rank``. Ordered best
    match first then newest with words, newest first without. Invalid filters (a
    ``filterset.errors`` to show) find nothing rather than everything. No query here:
    the returned queryset is one query per page (and one to count). The caller cuts the
    page it shows, then calls ``record_search`` with it.
    """
    base = (
        audience.with_reader_state(audience.readable_reports(user), user)
        .select_related("originating_agency")
        # No list or search shows these; a row that read one would cost a query.
        .defer("full_text", "source_description", "search_vector")
        .order_by("-created_at", "-id")
    )
    data = params if params is not None else {}
    filterset = ReportFilter(data, queryset=base)
    if not filterset.is_valid():
        return filterset, base.none()
    return filterset, filterset.qs


def record_search(
    user: Any, filterset: ReportFilter, *, found: int, shown: Iterable[IntelligenceReport]
) -> None:
    """The audit event of one page of a valid search: ``found`` reports in all (the
    paginator's count), ``shown`` the rows of the page given to the reader. One query,
    whatever the size of the page; nothing for an invalid search, which shows nothing."""
    if not filterset.is_valid():
        return
    used = {
        name: value
        for name, value in filterset.form.cleaned_data.items()
        if value not in (None, "", [])
    }
    detail: dict[str, Any] = {
        "filters": {
            name: str(value)
            for name, value in sorted(used.items())
            if name not in _FREE_TEXT_FILTERS
        },
        "text_filters": sorted(name for name in used if name in _FREE_TEXT_FILTERS),
        "results": found,
        "report_ids": [row.pk for row in shown],
    }
    record(IntelligenceAction.SEARCHED, actor=user, detail=detail)


def visible_summary(report_row: IntelligenceReport, user: Any) -> str | None:
    """The summary of a report as the reader may see it now: ``None`` while a C report's
    conditions wait for this reader's acknowledgement (or for a report they cannot read).

    A row from ``search_reports`` carries the answer; any other report is asked about
    (one query or two)."""
    waiting = getattr(report_row, "reader_must_acknowledge", None)
    if waiting is None:
        return report_row.summary if "summary" in audience.reader_fields(user, report_row) else None
    return None if waiting else report_row.summary
