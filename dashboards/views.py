"""Dashboards in the browser: pages, charts, CSV files, the printable report and exports.

Every number shown comes from ``suppression.publish``: tables show "<10" and
"suppressed" as text, charts plot them as gaps (``null``), CSV files carry them as
shown. Who may open what is ``scope``'s, as for the API: a role that opens no dashboard
of the kind asked for gets 403 before anything is looked up (the list and the exports
too); a partnership or agency the user is not part of is 404 (``scope`` audits the
attempt), and so is another person's export. Filters are GET parameters:
coded values (dates, an agency id, a region, an exploitation type), never personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms import DateInput
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from agencies.auth import SignedInRequest
from agencies.models import Agency, Partnership
from audit.audit_actions import AuthAction
from audit.record import record

from . import exports
from .audit_actions import DashboardAction
from .filters import DATE_FORMAT, DashboardFilterForm, Filters
from .measures import build_dashboard
from .models import ExportJob
from .scope import AGENCY, PARTNERSHIP, Scope, dashboards_for, require_role
from .suppression import FIGURE_SUPPRESSED, publish
from .tables import PublishedDashboard, PublishedFigure, PublishedTable

# Tables drawn as lines (a series over time); every other table is drawn as bars.
LINE_CHARTS = frozenset({"cases_by_month"})
# htmx stops polling an element when the answer has this status.
HTMX_STOP_POLLING = 286
# Bar charts with more rows than this lie on their side, so their labels stay readable.
HORIZONTAL_FROM_ROWS = 7


# --- Presentation of published values -------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One published value as the page shows it. ``hidden`` is "count" for a suppressed
    count ("<10"), "figure" for a suppressed share or median, "" otherwise; ``empty`` is
    a share or median of nothing."""

    text: str
    hidden: str = ""
    empty: bool = False


@dataclass
class TableView:
    table: PublishedTable
    header: list[str]
    rows: list[tuple[str, list[Cell]]]
    totals: list[Cell] | None
    chart: dict[str, Any] | None
    csv_url: str = ""
    wide: bool = False

    @property
    def key(self) -> str:
        return self.table.key

    @property
    def chart_id(self) -> str:
        return f"chart-data-{self.table.key}"


@dataclass
class SectionView:
    key: str
    title: str
    note: str
    figures: list[tuple[PublishedFigure, Cell, Cell | None]]
    tables: list[TableView] = field(default_factory=list)


def count_cell(value: Any) -> Cell:
    if isinstance(value, str):
        return Cell(value, hidden="count")
    if value is None:
        return Cell("—", empty=True)
    return Cell(str(value))


def figure_cell(figure: PublishedFigure) -> Cell:
    value = figure.value
    if figure.kind == "count":
        return count_cell(value)
    if value is None:
        return Cell("—", empty=True)
    if isinstance(value, str):
        return Cell(value if value == FIGURE_SUPPRESSED else str(value), hidden="figure")
    number = f"{value:g}" if isinstance(value, float) and value.is_integer() else str(value)
    return Cell(f"{number}%" if figure.kind == "share" else number)


def figure_n(figure: PublishedFigure) -> Cell | None:
    """The ``n`` of a share or median (itself a published count); None for a count."""
    return None if figure.n is None else count_cell(figure.n)


def chart_data(table: PublishedTable) -> dict[str, Any] | None:
    """The chart of a table: its rows as labels, one series per column, suppressed
    values as gaps (None, JSON null) and never as numbers; no totals. None when every
    value is hidden (a chart of gaps tells nothing)."""
    datasets = [
        {
            "label": column.label,
            "data": [
                row.values[i] if isinstance(row.values[i], int) else None for row in table.rows
            ],
        }
        for i, column in enumerate(table.columns)
    ]
    if not any(value is not None for dataset in datasets for value in dataset["data"]):
        return None
    line = table.key in LINE_CHARTS
    return {
        "type": "line" if line else "bar",
        "horizontal": not line and len(table.rows) > HORIZONTAL_FROM_ROWS,
        "title": table.title,
        "labels": [row.label for row in table.rows],
        "datasets": datasets,
    }


def table_view(table: PublishedTable, csv_url: str = "") -> TableView:
    header = [table.row_header, *(column.label for column in table.columns)]
    if table.has_row_totals:
        header.append(table.total_label)
    header.extend(column.label for column in table.figure_columns)

    def line(values: Any, total: Any, figures: Any) -> list[Cell]:
        cells = [count_cell(value) for value in values]
        if table.has_row_totals:
            cells.append(count_cell(total))
        cells.extend(figure_cell(figure) for figure in figures)
        return cells

    rows = [(row.label, line(row.values, row.total, row.figures)) for row in table.rows]
    totals = None
    if table.column_totals is not None:
        totals = line(table.column_totals, table.grand_total, table.total_figures)
    return TableView(
        table=table,
        header=header,
        rows=rows,
        totals=totals,
        chart=chart_data(table),
        csv_url=csv_url,
        wide=len(header) > 3,
    )


def section_views(
    published: PublishedDashboard, csv_url: Any = lambda key: ""
) -> list[SectionView]:
    return [
        SectionView(
            key=section.key,
            title=section.title,
            note=section.note,
            figures=[(figure, figure_cell(figure), figure_n(figure)) for figure in section.figures],
            tables=[table_view(table, csv_url(table.key)) for table in section.tables],
        )
        for section in published.sections
    ]


# --- Helpers --------------------------------------------------------------------------


def _filter_form(scope: Scope, params: Any) -> DashboardFilterForm:
    form = exports.filter_form(scope, params)
    for name in ("from", "to"):
        # A date picker that sends YYYY-MM-DD, the one format the form accepts.
        form.fields[name].widget = DateInput(attrs={"type": "date"}, format=DATE_FORMAT)
    if scope.kind != PARTNERSHIP:
        form.fields.pop("agency")  # one agency: nothing to choose
    return form


def _query(filters: Filters) -> str:
    return urlencode({k: v for k, v in filters.as_params().items() if v is not None})


def _url(name: str, scope: Scope, *args: Any, filters: Filters | None = None) -> str:
    url = reverse(f"dashboards:{scope.kind}_{name}", args=[scope.id, *args])
    return f"{url}?{_query(filters)}" if filters is not None else url


def _published(scope: Scope, filters: Filters) -> PublishedDashboard:
    return publish(build_dashboard(scope, filters))


def _page_context(scope: Scope, form: DashboardFilterForm) -> dict[str, Any]:
    return {
        "scope": scope,
        "form": form,
        "page_url": _url("dashboard", scope),
        "agencies": scope.agencies if scope.kind == PARTNERSHIP else (),
    }


def legend(threshold: int) -> dict[str, str]:
    """What a hidden value means, for the legend and each hidden cell's title."""
    return {
        "marker": f"<{threshold}",
        "count": _(
            "Fewer than %(t)d, or hidden so that another hidden number cannot be worked "
            "out from the totals: hidden to protect people."
        )
        % {"t": threshold},
        "figure": _(
            "A share or median from fewer than %(t)d people, or from a hidden number: "
            "hidden to protect people."
        )
        % {"t": threshold},
        "count_short": _("Fewer than %(t)d, or hidden to protect people") % {"t": threshold},
        "figure_short": _("From fewer than %(t)d people or a hidden number") % {"t": threshold},
    }


def _bad_filters(form: DashboardFilterForm) -> HttpResponse:
    lines = [_("The dashboard filters are not valid:")]
    lines += [
        f"{name}: {' '.join(str(message) for message in errors)}"
        for name, errors in form.errors.items()
    ]
    return HttpResponse("\n".join(lines) + "\n", status=400, content_type="text/plain")


def _name_dashboards(jobs: list[ExportJob]) -> None:
    """Each job's dashboard name (a partnership's or an agency's), in one query per kind."""
    for kind, model in ((PARTNERSHIP, Partnership), (AGENCY, Agency)):
        ids = {job.scope_id for job in jobs if job.scope_kind == kind}
        names = dict(model.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
        for job in jobs:
            if job.scope_kind == kind:
                job.dashboard_name = names.get(job.scope_id, "")


# --- Pages ----------------------------------------------------------------------------


@login_required
@require_safe
def dashboard_list(request: SignedInRequest) -> HttpResponse:
    """The dashboards the user may open, and their own exports."""
    user = request.user
    require_role(user)
    jobs = list(ExportJob.objects.of_requester(user)[:10])
    _name_dashboards(jobs)
    return render(
        request, "dashboards/list.html", {"dashboards": dashboards_for(user), "exports": jobs}
    )


@login_required
@require_safe
def dashboard(request: SignedInRequest, kind: str, pk: int) -> HttpResponse:
    """One dashboard: the filters, then every section's figures, charts and tables."""
    scope = exports.scope_for(request.user, kind, pk)
    form = _filter_form(scope, request.GET)
    context = _page_context(scope, form)
    if not form.is_valid():
        return render(request, "dashboards/dashboard.html", context, status=400)
    filters = form.filters
    published = _published(scope, filters)
    exports.audit_read(
        DashboardAction.VIEWED, actor=request.user, scope=scope, filters=filters, format="page"
    )
    context.update(
        published=published,
        filters=filters,
        sections=section_views(published, lambda key: _url("csv", scope, key, filters=filters)),
        legend=legend(published.threshold),
        report_url=_url("report", scope, filters=filters),
        export_url=_url("export", scope),
        export_params=[(k, v) for k, v in filters.as_params().items() if v is not None],
    )
    return render(request, "dashboards/dashboard.html", context)


@login_required
@require_safe
def report(request: SignedInRequest, kind: str, pk: int) -> HttpResponse:
    """The printable report: every table, the filters, the time and the threshold."""
    scope = exports.scope_for(request.user, kind, pk)
    form = _filter_form(scope, request.GET)
    if not form.is_valid():
        return _bad_filters(form)
    filters = form.filters
    published = _published(scope, filters)
    exports.audit_read(
        DashboardAction.VIEWED, actor=request.user, scope=scope, filters=filters, format="report"
    )
    return render(
        request,
        "dashboards/report.html",
        {
            "scope": scope,
            "published": published,
            "filter_lines": exports.describe_filters(scope, filters),
            "sections": section_views(published),
            "legend": legend(published.threshold),
            "dashboard_url": _url("dashboard", scope, filters=filters),
        },
    )


@login_required
@require_safe
def table_csv(request: SignedInRequest, kind: str, pk: int, table_key: str) -> HttpResponse:
    """One published table as a CSV file (see ``exports`` for the format)."""
    scope = exports.scope_for(request.user, kind, pk)
    form = _filter_form(scope, request.GET)
    if not form.is_valid():
        return _bad_filters(form)
    filters = form.filters
    published = _published(scope, filters)
    try:
        table = published.table(table_key)
    except KeyError:
        raise Http404 from None
    exports.audit_read(
        DashboardAction.CSV_DOWNLOADED,
        actor=request.user,
        scope=scope,
        filters=filters,
        table=table_key,
    )
    response = HttpResponse(exports.table_csv(table), content_type=exports.CSV_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(
        True, exports.csv_filename(published, table_key)
    )
    return response


# --- Exports --------------------------------------------------------------------------


@login_required
@require_POST
def export_create(request: SignedInRequest, kind: str, pk: int) -> HttpResponse:
    """Ask for every table as a ZIP of CSV files, built in the background."""
    scope = exports.scope_for(request.user, kind, pk)
    form = _filter_form(scope, request.POST)
    if not form.is_valid():
        messages.error(request, _("Correct the filters before exporting."))
        params = {name: request.POST[name] for name in form.fields if request.POST.get(name)}
        return redirect(f"{_url('dashboard', scope)}?{urlencode(params)}")
    job = exports.export_request(actor=request.user, scope=scope, filters=form.filters)
    return redirect("dashboards:export_detail", job.pk)


@login_required
@require_safe
def export_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """The job's progress; htmx asks again every 2 seconds for the status fragment until
    the job is done or failed."""
    polling = bool(getattr(request, "htmx", False))
    try:
        job, scope = exports.export_of_requester(request.user, pk)
    except (Http404, PermissionDenied) as refused:
        if not polling:
            raise
        # 286 tells htmx to stop polling (a role lost while the page was open): one
        # refusal in the audit trail, not one every two seconds. A 404 was audited by
        # ``scope``; a 403 caught here would not reach the middleware that audits it.
        if isinstance(refused, PermissionDenied):
            record(
                AuthAction.ACCESS_FORBIDDEN, detail={"path": request.path, "method": request.method}
            )
        message = _("This export is not available to you.")
        return HttpResponse(f'<p class="mb-0">{message}</p>', status=HTMX_STOP_POLLING)
    context = {"job": job, "scope": scope}
    if polling:
        return render(request, "dashboards/_export_status.html", context)
    return render(request, "dashboards/export_detail.html", context)


@login_required
@require_safe
def export_download(request: SignedInRequest, pk: int) -> FileResponse:
    job = exports.export_for_download(request.user, pk)
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=job.file.name.rsplit("/", 1)[-1],
        content_type="application/zip",
    )
