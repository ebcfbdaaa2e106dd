"""Dashboards leaving Concord as files: one table as CSV, or every table as a ZIP of CSVs
built by a worker (``ExportJob``), and the audit names of every way a dashboard is read.

CSV files are UTF-8 **with a byte-order mark** and CRLF line ends (the ``csv`` module's
default): spreadsheet programs then read the labels' accents and the "·" of the grading
labels correctly, and every CSV reader we know skips the mark. A file holds exactly what
``PublishedTable.csv_rows()`` gives: the header, one line per row, the totals line;
suppressed counts as "<10", suppressed shares and medians as "suppressed", a share of
nothing as an empty cell. A text cell that a spreadsheet would run as a formula (it
starts with = + - @, a tab or a carriage return) is written with a leading apostrophe,
although every label comes from choices, agency kinds, months or country names.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies import access
from agencies.models import Agency, Partnership, User
from audit.record import record
from casework.models import ExploitationType
from core import background

from .audit_actions import DashboardAction
from .filters import DashboardFilterForm, Filters
from .measures import build_dashboard
from .models import ExportJob, ExportStatus
from .permissions import VIEW_AGENCY, VIEW_PARTNERSHIP
from .scope import AGENCY, PARTNERSHIP, Scope, agency_scope, partnership_scope, require_role
from .suppression import publish
from .tables import PublishedDashboard, PublishedTable

logger = logging.getLogger(__name__)

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"
# What a spreadsheet may take for the start of a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_ttl() -> timedelta:
    """How long a built export may be downloaded (``DASHBOARD_EXPORT_TTL_HOURS``)."""
    return timedelta(hours=settings.DASHBOARD_EXPORT_TTL_HOURS)


def export_lease() -> timedelta:
    """A job "running" longer than this (``DASHBOARD_EXPORT_LEASE_SECONDS``) is presumed
    dead (its worker was killed) and may be claimed again when its message is delivered
    again."""
    return timedelta(seconds=settings.DASHBOARD_EXPORT_LEASE_SECONDS)


# --- Scope, filters and audit ----------------------------------------------------------


def scope_for(user: Any, kind: str, scope_id: Any) -> Scope:
    """The dashboard ``user`` asks for: PermissionDenied (403) for a role that opens no
    dashboard of this kind, Http404 for one they may not open (audited by ``scope``)."""
    if kind == PARTNERSHIP:
        return partnership_scope(user, scope_id)
    if kind == AGENCY:
        return agency_scope(user, scope_id)
    raise Http404


def filter_form(scope: Scope, params: Any) -> DashboardFilterForm:
    """The filter form bound to query parameters (a QueryDict, or a job's stored dict)."""
    if not hasattr(params, "getlist"):
        params = {name: str(value) for name, value in (params or {}).items() if value is not None}
    return DashboardFilterForm(params, scope=scope)


def audit_target(scope: Scope) -> models.Model:
    """The partnership or agency the dashboard covers, as the audit trail names it (an
    unsaved stand-in with its primary key: no query)."""
    return _dashboard_of(scope.kind, scope.id)


def _dashboard_of(kind: str, scope_id: int) -> models.Model:
    return Partnership(pk=scope_id) if kind == PARTNERSHIP else Agency(pk=scope_id)


def _permission_of(kind: str) -> str:
    return VIEW_PARTNERSHIP if kind == PARTNERSHIP else VIEW_AGENCY


def audit_read(
    action: DashboardAction, *, actor: Any, scope: Scope, filters: Filters, **detail: Any
) -> None:
    record(
        action,
        actor=actor,
        target=audit_target(scope),
        detail={"scope": scope.kind, "filters": filters.as_params(), **detail},
    )


@dataclass(frozen=True)
class FilterLine:
    label: str
    value: str


def describe_filters(scope: Scope, filters: Filters) -> list[FilterLine]:
    """The filters in words, for the printable report and the ZIP's README."""
    agencies = {agency.id: agency.name for agency in scope.agencies}
    types = dict(ExploitationType.choices)
    period = _("%(start)s to %(end)s") % {
        "start": filters.date_from.isoformat() if filters.date_from else _("the beginning"),
        "end": filters.date_to.isoformat() if filters.date_to else _("today"),
    }
    return [
        FilterLine(_("Period"), period),
        FilterLine(
            _("Agency"),
            scope.name
            if scope.kind == AGENCY
            else agencies.get(filters.agency_id, "")
            if filters.agency_id
            else _("All agencies"),
        ),
        FilterLine(_("Region"), filters.region or _("All regions")),
        FilterLine(
            _("Exploitation type"),
            str(types.get(filters.exploitation_type, filters.exploitation_type))
            if filters.exploitation_type
            else _("All types"),
        ),
    ]


# --- CSV --------------------------------------------------------------------------------


def csv_cell(value: Any) -> str:
    """One cell as text: numbers as they are, nothing as empty, formula starts escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):  # pragma: no cover - no table holds booleans
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def table_csv(table: PublishedTable) -> bytes:
    """The published table as a CSV file (UTF-8 with a byte-order mark)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for line in table.csv_rows():
        writer.writerow([csv_cell(value) for value in line])
    return (BOM + out.getvalue()).encode("utf-8")


def csv_filename(published: PublishedDashboard, table_key: str) -> str:
    filters = published.filters
    dates = "_".join(part for part in (filters.get("from"), filters.get("to")) if part)
    return f"concord_{published.scope.kind}-{published.scope.id}_{table_key}_{dates}.csv"


def readme(published: PublishedDashboard, scope: Scope, filters: Filters) -> str:
    t = published.threshold
    lines = [
        _("Concord dashboard export"),
        "",
        _("Dashboard: %(name)s (%(kind)s)") % {"name": scope.name, "kind": scope.kind},
        *(f"{line.label}: {line.value}" for line in describe_filters(scope, filters)),
        _("Generated at: %(when)s") % {"when": published.generated_at.isoformat()},
        _("Suppression threshold: %(t)d") % {"t": t},
        "",
        _(
            '"<%(t)d" is a count from 1 to %(last)d, or a number hidden so that a hidden '
            'count cannot be worked out from the totals. "suppressed" is a share or '
            "median computed from too few people or from a hidden count. An empty cell is "
            "a share or median of nothing."
        )
        % {"t": t, "last": t - 1},
        "",
        _("Files:"),
        *(
            f"{table.key}.csv: {table.title}"
            for section in published.sections
            for table in section.tables
        ),
    ]
    return "\r\n".join(lines) + "\r\n"


# --- Export jobs ------------------------------------------------------------------------


def export_request(*, actor: User, scope: Scope, filters: Filters) -> ExportJob:
    """Ask for every table of a dashboard the actor may open (``scope`` was resolved for
    them) as a ZIP of CSV files. The job is built by a worker after the commit; its task
    carries the job's id only. The job row is the durable part: with the broker down the
    request still succeeds, and beat publishes the job again (``exports_to_requeue``)."""
    from .tasks import build_export

    with transaction.atomic():
        job = ExportJob.objects.create(
            requested_by=actor,
            scope_kind=scope.kind,
            scope_id=scope.id,
            filters=filters.as_params(),
        )
        audit_read(
            DashboardAction.EXPORT_REQUESTED, actor=actor, scope=scope, filters=filters, job=job.pk
        )
        background.publish_on_commit(build_export, job.pk)
    return job


# A queued job not claimed this long after it was made has lost its message (the broker
# was down, the web process died before publishing it).
EXPORT_REQUEUE_GRACE = timedelta(seconds=30)


def exports_to_requeue(*, limit: int = 500) -> list[int]:
    """Ids of the jobs whose message is presumed lost, oldest first (at most ``limit``):
    queued for longer than EXPORT_REQUEUE_GRACE, or running for longer than the lease
    (their worker died). Publishing one again is safe: ``export_build`` claims the job."""
    now = timezone.now()
    return list(
        ExportJob.objects.filter(
            models.Q(status=ExportStatus.QUEUED, created_at__lt=now - EXPORT_REQUEUE_GRACE)
            | models.Q(status=ExportStatus.RUNNING, started_at__lt=now - export_lease())
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def _fail(job_id: int, message: str) -> None:
    ExportJob.objects.filter(pk=job_id).update(
        status=ExportStatus.FAILED, error=message[:300], finished_at=timezone.now()
    )


def _progress(job_id: int, percent: int) -> None:
    ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING).update(progress=percent)


def export_build(*, job_id: int) -> ExportJob | None:
    """Build one export; safe to run twice or at the same time.

    The job is claimed with one conditional UPDATE (queued, or running longer than the
    lease: its worker died), so only one worker builds it. The requester must still be
    able to open the dashboard *now* (a role lost since the request fails the job, with
    no file); the filters must still be valid for it. Progress is written after the
    dashboard is counted and after each table. Returns the job, or None when there was
    nothing to do.
    """
    now = timezone.now()
    claimed = (
        ExportJob.objects.filter(pk=job_id)
        .filter(
            models.Q(status=ExportStatus.QUEUED)
            | models.Q(status=ExportStatus.RUNNING, started_at__lt=now - export_lease())
        )
        .update(status=ExportStatus.RUNNING, started_at=now, progress=0)
    )
    if not claimed:
        return None
    job = ExportJob.objects.get(pk=job_id)
    # Fresh from the database: a role changed since the request counts now.
    user = User.objects.select_related("membership__agency").get(pk=job.requested_by_id)
    try:
        scope = scope_for(user, job.scope_kind, job.scope_id)
    except (Http404, PermissionDenied) as refused:
        if isinstance(refused, PermissionDenied):
            # No request here for the 403's own audit: the refusal is recorded as the
            # refused attempt on the dashboard it is (``scope`` does so for a 404).
            perm = _permission_of(job.scope_kind)
            access.refuse(user, _dashboard_of(job.scope_kind, job.scope_id), perm)
        _fail(job_id, _("You may no longer open this dashboard, so the export was not built."))
        return ExportJob.objects.get(pk=job_id)
    form = filter_form(scope, job.filters)
    if not form.is_valid():
        problems = "; ".join(
            f"{name}: {' '.join(str(m) for m in messages)}"
            for name, messages in form.errors.items()
        )
        _fail(job_id, _("The filters are no longer valid for this dashboard (%s).") % problems)
        return ExportJob.objects.get(pk=job_id)
    filters = form.filters
    try:
        published = publish(build_dashboard(scope, filters))
        tables = [table for section in published.sections for table in section.tables]
        _progress(job_id, 10)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", readme(published, scope, filters).encode("utf-8"))
            for done, table in enumerate(tables, start=1):
                archive.writestr(f"{table.key}.csv", table_csv(table))
                _progress(job_id, 10 + 85 * done // len(tables))
        dates = "_".join(p for p in (filters.as_params()["from"], filters.as_params()["to"]) if p)
        name = f"concord_{scope.kind}-{scope.id}_{dates}.zip"
        job.file.save(name, ContentFile(buffer.getvalue()), save=False)
    except Exception:
        logger.exception("Export job %s could not be built.", job_id)
        _fail(job_id, _("The export could not be built. Try again, or ask for help."))
        return ExportJob.objects.get(pk=job_id)
    finished = timezone.now()
    saved = ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING, started_at=now).update(
        status=ExportStatus.DONE,
        progress=100,
        file=job.file.name,
        finished_at=finished,
        expires_at=finished + export_ttl(),
    )
    if not saved:  # another worker took the job over (lease passed): keep its file
        job.file.delete(save=False)
    return ExportJob.objects.get(pk=job_id)


def export_of_requester(user: Any, job_id: int) -> tuple[ExportJob, Scope]:
    """The requester's job, on a dashboard they may still open.

    PermissionDenied (403) for a role that opens no dashboard, before the job is looked
    up; Http404 for a job that is not theirs (audited, as a hidden record is) or that
    does not exist, and when the requester may no longer open its dashboard."""
    require_role(user)
    job = ExportJob.objects.filter(pk=job_id).first()
    if job is None:
        raise Http404
    if job.requested_by_id != getattr(user, "pk", None):
        access.refuse(user, job, _permission_of(job.scope_kind))
        raise Http404
    return job, scope_for(user, job.scope_kind, job.scope_id)


def export_for_download(user: Any, job_id: int) -> ExportJob:
    """The requester's finished, unexpired export (Http404 otherwise); the download is
    audited."""
    job, scope = export_of_requester(user, job_id)
    if not job.downloadable:
        raise Http404
    record(
        DashboardAction.EXPORT_DOWNLOADED,
        actor=user,
        target=audit_target(scope),
        detail={"scope": scope.kind, "filters": job.filters, "job": job.pk},
    )
    return job


def exports_purge(*, now: datetime | None = None) -> int:
    """Delete the files of expired exports (the rows stay: who exported what, when).
    Returns how many files were deleted."""
    now = now or timezone.now()
    purged = 0
    for job in ExportJob.objects.expired(now).only("pk", "file"):
        job.file.delete(save=False)
        ExportJob.objects.filter(pk=job.pk).update(file="")
        purged += 1
    return purged
