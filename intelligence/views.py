"""Intelligence in the browser (the API's twin): thin views over the services
(``intelligence.reports``, ``intelligence.operations``) and the audited reads
(``intelligence.reads``).

Each view first asks whether the user's role may ever do this (403 otherwise), then
fetches the record through the same scoping as the API (404 when it is not the user's
to see; the services audit the attempt), then calls a service for every write and for
every read of a report (``report_read`` and ``match_open`` are audited). Nothing here
decides who reads what: a report's page shows exactly the fields ``report_read`` gives.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.forms import DateField, Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from agencies import access
from agencies.auth import SignedInRequest
from agencies.models import Agency
from audit.record import record
from casework import services as casework
from casework.models import Case, ExploitationType
from casework.permissions import ADD_CASE, VIEW_CASE
from core.forms import form_page, posted_data
from core.pagination import page_size

from . import audience, operations, reads, report_fields, reports
from .audit_actions import IntelligenceAction
from .forms import (
    ArchiveForm,
    OperationForm,
    RegradeForm,
    ReportForm,
    VisitForm,
    entity_lines,
    report_initial,
)
from .models import (
    GRADING_HELP,
    TLP,
    Distribution,
    EntityKind,
    HandlingCode,
    Indicator,
    IntelligenceAssessment,
    IntelligenceReport,
    Match,
    Operation,
    PremisesVisit,
    ReportStatus,
    SourceEvaluation,
)
from .permissions import (
    ADD_OPERATION,
    ADD_REPORT,
    ADD_VISIT,
    GRADE_REPORT,
    VIEW_MATCH,
    VIEW_OPERATION,
    VIEW_REPORT,
)
from .search import record_search, search_reports, visible_summary

# --- Helpers ----------------------------------------------------------------------------


def _require_any(request: SignedInRequest, *perms: str, message: str) -> None:
    """The role may never do this, whatever the record: 403."""
    if not any(access.user_may(request.user, perm) for perm in perms):
        raise PermissionDenied(message)


def _require_reader_or_writer(request: SignedInRequest) -> None:
    _require_any(
        request,
        VIEW_REPORT,
        ADD_REPORT,
        message=_("Only analysts, officers, caseworkers and case managers use intelligence."),
    )


def _exploitation_labels(values: list[str]) -> list[str]:
    known = dict(ExploitationType.choices)
    return [str(known.get(value, value)) for value in values]


def _is_originating(request: SignedInRequest, report: IntelligenceReport) -> bool:
    membership = access.active_membership(request.user)
    return membership is not None and membership.agency_id == report.originating_agency_id


def _require_originating(request: SignedInRequest, report: IntelligenceReport) -> None:
    """The user reads the report but may not change it: 403."""
    if not _is_originating(request, report) or not access.user_may(request.user, ADD_REPORT):
        raise PermissionDenied(_("Only the originating agency may change this report."))
    if report.status == ReportStatus.ARCHIVED:
        raise PermissionDenied(_("An archived report cannot be changed."))


def _report_url(report: IntelligenceReport) -> str:
    return reverse("intelligence:report_detail", kwargs={"pk": report.pk})


def _to_report(report: IntelligenceReport) -> HttpResponse:
    return redirect(_report_url(report))


def _error_message(request: SignedInRequest, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


# --- Reports: list and search ------------------------------------------------------------


def _word_the_filter_form(form: Form) -> None:
    """Say "Any" where a filter is unset (django-filter's default is a row of dashes), and
    let the browser offer a calendar for dates. The form is this request's own copy."""
    for field in form.fields.values():
        if hasattr(field, "empty_label"):
            field.empty_label = _("Any")
            field.widget.choices = field.choices  # the widget still lists the class's field
        elif isinstance(field, DateField):
            field.widget.input_type = "date"


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_list(request: SignedInRequest) -> HttpResponse:
    """The reports the user may read, searched and filtered in SQL, one page at a time in
    a fixed number of queries; a summary only where the reader may see it now.

    The search form is POSTed, and its pages too, so the words typed (a name, say) never
    travel in a URL: not in the browser's history, a Referer or a server's access log
    (search.py keeps them out of the audit trail for the same reason). A plain GET lists
    everything, and coded filters still work as links (``?tlp=RED``).
    """
    _require_reader_or_writer(request)
    posted = request.method == "POST"
    params = request.POST if posted else request.GET
    report_filter, results = search_reports(request.user, params)
    _word_the_filter_form(report_filter.form)
    page = Paginator(results.select_related("originating_agency"), page_size(request)).get_page(
        params.get("page")
    )
    page.object_list = list(page.object_list)
    for row in page.object_list:
        row.summary_shown = visible_summary(row, request.user)
        row.exploitation_labels = _exploitation_labels(row.exploitation_types)
    record_search(request.user, report_filter, found=page.paginator.count, shown=page.object_list)
    used = [(name, params[name]) for name in report_filter.form.fields if params.get(name)]
    context = {
        "filter": report_filter,
        "page": page,
        "searching": bool(used),
        # A POSTed search's pages are POSTed again with the same filters.
        "posted_filters": used if posted else None,
        "may_write": access.user_may(request.user, ADD_REPORT),
        "reads_others": access.user_may(request.user, VIEW_REPORT),
    }
    return render(request, "intelligence/report_list.html", context)


# --- Reports: writing ---------------------------------------------------------------------


def _agency(request: SignedInRequest) -> Agency:
    return access.require_membership(request.user).agency


def _submitted() -> str:
    """The confirmation of every submit, the same whatever the report names: matching is
    done by a worker moments later (``matching.report_match``), and a page that said
    more (or said it only sometimes) would tell of other agencies' reports."""
    return _(
        "The report was submitted. Matches with other agencies' reports, if any, appear "
        "in your matches shortly."
    )


def _asks_to_submit(request: SignedInRequest) -> bool:
    return request.POST.get("action") == "submit"


def _report_create(
    request: SignedInRequest, form: ReportForm, *, visit: PremisesVisit | None = None
) -> IntelligenceReport:
    """Create (and submit, if asked) a report from a valid form; link the visit it came
    from. All or nothing: a refused submission leaves no draft behind."""
    with transaction.atomic():
        report = reports.report_create(actor=request.user, **form.report_fields())
        if _asks_to_submit(request):
            report = reports.report_submit(actor=request.user, report=report)
        if visit is not None:
            operations.visit_link(actor=request.user, visit=visit, report=report)
    return report


def _created(request: SignedInRequest) -> str:
    return _submitted() if _asks_to_submit(request) else _("The report was saved as a draft.")


def _changed_only(
    request: SignedInRequest, report: IntelligenceReport, fields: dict[str, Any]
) -> dict[str, Any]:
    """Leave out the relations the writer did not change, so that saving a submitted
    report's title neither rewrites its entities (and matches them again) nor records
    every relation as changed in the trail."""
    current = {
        "entities": {(e.kind, e.value) for e in report.entities.all()},
        "linked_cases": set(
            report.linked_cases.filter(
                pk__in=Case.objects.visible_to(request.user, VIEW_CASE).values("pk")
            ).values_list("pk", flat=True)
        ),
        "tlp_recipients": set(report.tlp_recipients.values_list("pk", flat=True)),
    }
    wanted = {
        "entities": {(e["kind"], e["value"]) for e in fields.get("entities", [])},
        "linked_cases": set(fields.get("linked_cases", [])),
        "tlp_recipients": set(fields.get("tlp_recipients", [])),
    }
    return {
        name: value
        for name, value in fields.items()
        if name not in current or current[name] != wanted[name]
    }


def _report_form_page(request: SignedInRequest, form: ReportForm, **context: Any) -> HttpResponse:
    return render(request, "intelligence/report_form.html", {"form": form, **context})


@login_required
def report_create(request: SignedInRequest) -> HttpResponse:
    _require_any(
        request,
        ADD_REPORT,
        message=_("Only analysts, officers, caseworkers and case managers write intelligence."),
    )
    form = ReportForm(posted_data(request), user=request.user, agency=_agency(request))
    return form_page(
        request,
        form,
        service=lambda: _report_create(request, form),
        success=_created(request),
        redirect_to=_report_url,
        page=lambda: _report_form_page(
            request, form, title=_("Write an intelligence report"), new=True
        ),
    )


@login_required
def report_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    """The originating agency changes a draft (grading included) or a submitted report
    (not its grading: that is a re-grade, with a reason)."""
    _require_any(
        request, ADD_REPORT, message=_("Only the originating agency may change this report.")
    )
    report = reads.report_get(request.user, pk)
    _require_originating(request, report)
    draft = report.status == ReportStatus.DRAFT
    form = ReportForm(
        posted_data(request),
        user=request.user,
        agency=report.originating_agency,
        grading=draft,
        editing=True,
        initial=report_initial(report, request.user),
    )
    submit = draft and _asks_to_submit(request)

    def report_save() -> IntelligenceReport:
        # Rebound: the form page shown again after a refused submit names the report as
        # the update left it.
        nonlocal report
        with transaction.atomic():
            report = reports.report_update(
                actor=request.user,
                report=report,
                **_changed_only(request, report, form.report_fields()),
            )
            if submit:
                report = reports.report_submit(actor=request.user, report=report)
        return report

    return form_page(
        request,
        form,
        service=report_save,
        success=_submitted() if submit else _("The report was saved."),
        redirect_to=_report_url,
        illegal_transition_to=_report_url(report),
        page=lambda: _report_form_page(
            request,
            form,
            title=_("Edit: %(title)s") % {"title": report.title},
            report=report,
            new=draft,
        ),
    )


@login_required
def report_regrade(request: SignedInRequest, pk: int) -> HttpResponse:
    """A new grading for a report, with the reason, kept in its history."""
    _require_any(
        request,
        GRADE_REPORT,
        message=_("Only analysts, officers and case managers of the originating agency re-grade."),
    )
    report = reads.report_get(request.user, pk)
    _require_originating(request, report)
    if report.status == ReportStatus.DRAFT:
        messages.info(
            request, _("A draft is not re-graded: edit the draft instead, grading and all.")
        )
        return redirect("intelligence:report_edit", pk=report.pk)
    initial = {
        "source_evaluation": report.source_evaluation,
        "intelligence_assessment": report.intelligence_assessment,
        "handling_code": report.handling_code,
        "handling_conditions": report.handling_conditions,
        "tlp": report.tlp,
        "tlp_recipients": list(report.tlp_recipients.values_list("pk", flat=True)),
    }
    form = RegradeForm(posted_data(request), agency=report.originating_agency, initial=initial)

    def regrade_page() -> HttpResponse:
        history = list(report.grading_changes.select_related("changed_by"))
        return render(
            request,
            "intelligence/report_regrade.html",
            {"form": form, "report": report, "history": history},
        )

    return form_page(
        request,
        form,
        service=lambda: reports.report_regrade(actor=request.user, report=report, **form.grading()),
        success=_("The report was re-graded."),
        redirect_to=_report_url(report),
        illegal_transition_to=_report_url(report),
        page=regrade_page,
    )


@login_required
@require_POST
def report_submit(request: SignedInRequest, pk: int) -> HttpResponse:
    _require_any(
        request, ADD_REPORT, message=_("Only the originating agency may submit this report.")
    )
    report = reads.report_get(request.user, pk)
    _require_originating(request, report)
    try:
        reports.report_submit(actor=request.user, report=report)
    except ValidationError as error:
        _error_message(request, error)
    else:
        messages.success(request, _submitted())
    return _to_report(report)


@login_required
@require_POST
def report_archive(request: SignedInRequest, pk: int) -> HttpResponse:
    _require_any(
        request, ADD_REPORT, message=_("Only the originating agency may archive this report.")
    )
    report = reads.report_get(request.user, pk)
    _require_originating(request, report)
    form = ArchiveForm(request.POST)
    form.is_valid()  # the reason is optional: nothing can be wrong with it
    try:
        reports.report_archive(
            actor=request.user, report=report, reason=form.cleaned_data.get("reason", "")
        )
    except ValidationError as error:
        _error_message(request, error)
    else:
        messages.success(request, _("The report was archived: other agencies no longer see it."))
    return _to_report(report)


# --- Reports: reading ----------------------------------------------------------------

# What a TLP colour asks of whoever reads the report (FIRST TLP 2.0), for the banner at
# the top of a report. GRADING_HELP says the same to the writer choosing it.
TLP_READER_MEANING: dict[str, str] = {
    TLP.CLEAR: gettext_lazy("Disclosure is not limited, within the law."),
    TLP.GREEN: gettext_lazy(
        "Share it within the partner agencies of your community; never publicly."
    ),
    TLP.AMBER: gettext_lazy(
        "Share it only within your agency, with those who need to know to act on it."
    ),
    TLP.AMBER_STRICT: gettext_lazy("Do not share it outside the originating agency."),
    TLP.RED: gettext_lazy(
        "For the named recipients only: do not share it with anyone else, even in your agency."
    ),
}


def _grading_rows(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(what, the code in words, what it means) for the report page."""
    source, assessment = data["source_evaluation"], data["intelligence_assessment"]
    return [
        (
            _("Source evaluation"),
            str(SourceEvaluation(source).label),
            str(GRADING_HELP["source_evaluation"].get(source, "")),
        ),
        (
            _("Intelligence assessment"),
            str(IntelligenceAssessment(assessment).label),
            str(GRADING_HELP["intelligence_assessment"].get(assessment, "")),
        ),
        (_("Handling code"), str(HandlingCode(data["handling_code"]).label), ""),
        (_("TLP"), str(TLP(data["tlp"]).label), str(TLP_READER_MEANING[data["tlp"]])),
        (_("Distribution"), str(Distribution(data["distribution"]).label), ""),
    ]


@login_required
@require_safe
def report_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """One report, as ``report_read`` gives it: the conditions first (a C report not yet
    acknowledged), the sanitised summary (another agency), or in full (the originating
    agency). Every opening is audited by the service."""
    _require_reader_or_writer(request)
    report = reads.report_get(request.user, pk)
    reading = reads.report_read(request.user, report)
    data = reading.data
    full = reading.level == "full"
    editable = (
        full
        and access.user_may(request.user, ADD_REPORT)
        and report.status != ReportStatus.ARCHIVED
    )
    kinds = dict(EntityKind.choices)
    context: dict[str, Any] = {
        "report": report,
        "level": reading.level,
        "data": data,
        "grading": _grading_rows(data),
        "tlp_help": TLP_READER_MEANING[data["tlp"]],
        "exploitation_labels": _exploitation_labels(data.get("exploitation_types", [])),
        "entities": [
            {"kind": str(kinds.get(e["kind"], e["kind"])), "value": e["value"]}
            for e in data.get("entities", [])
        ],
        "may_edit": editable,
        "may_submit": editable and report.status == ReportStatus.DRAFT,
        "may_regrade": editable
        and report.status == ReportStatus.SUBMITTED
        and access.user_may(request.user, GRADE_REPORT),
        "archive_form": ArchiveForm(auto_id="archive_%s") if editable else None,
    }
    if full:
        context["visits"] = list(report.premises_visits.all().order_by("-visited_on"))
    return render(request, "intelligence/report_detail.html", context)


@login_required
@require_POST
def report_acknowledge(request: SignedInRequest, pk: int) -> HttpResponse:
    """A reader in another agency accepts the conditions the page showed them (the form
    posts their version), then reads the report. Conditions changed since are shown
    again instead, to be read and acknowledged."""
    _require_any(request, VIEW_REPORT, message=_("Only analysts and officers read intelligence."))
    report = reads.report_get(request.user, pk)
    shown = report_fields.as_id(request.POST.get("conditions_version", ""))
    if shown is None:
        messages.error(request, _("Read the conditions on the report, then acknowledge them."))
        return _to_report(report)
    try:
        reports.acknowledge_conditions(actor=request.user, report=report, conditions_version=shown)
    except ValidationError as error:
        _error_message(request, error)
    else:
        messages.success(request, _("You acknowledged the handling conditions."))
    return _to_report(report)


# --- Matches -----------------------------------------------------------------------------


@login_required
@require_safe
def match_list(request: SignedInRequest) -> HttpResponse:
    """Matches on the user's agency's reports (``Match.objects.visible_to``), as the API
    lists them: the kind and the user's own report, never the other agency, which is
    named only when a match is opened (audited). The page's matches are audited as in
    the API."""
    _require_any(request, VIEW_MATCH, message=_("Your role does not see intelligence matches."))
    matches = Match.objects.visible_to(request.user, VIEW_MATCH)
    page = Paginator(matches, page_size(request)).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    titles = dict(
        IntelligenceReport.objects.filter(
            pk__in={m.own_report_id for m in page.object_list}
        ).values_list("pk", "title")
    )
    for row in page.object_list:
        row.own_title = titles.get(row.own_report_id, "")
    reads.matches_listed(request.user, [m.pk for m in page.object_list])
    return render(request, "intelligence/match_list.html", {"page": page})


@login_required
@require_safe
def match_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """One match, opened (audited by ``reads.match_open``): the same fields as the
    API's match detail."""
    _require_any(request, VIEW_MATCH, message=_("Your role does not see intelligence matches."))
    view = reads.match_open(request.user, pk)
    return render(
        request,
        "intelligence/match_detail.html",
        {"view": view, "kind_label": str(EntityKind(view.kind).label).lower()},
    )


# --- Operations and visits ---------------------------------------------------------------


def _operation(request: SignedInRequest, pk: int) -> Operation:
    """An operation the user's agency leads or partners; otherwise 404 (audited)."""
    led_or_partnered = Operation.objects.select_related("lead_agency", "created_by")
    return access.get_visible_or_404(led_or_partnered, request.user, VIEW_OPERATION, pk=pk)


def _visit(request: SignedInRequest, pk: int) -> PremisesVisit:
    """A visit the user may see; otherwise 404 (audited)."""
    visits = PremisesVisit.objects.select_related("operation", "agency", "recorded_by")
    return access.get_visible_or_404(visits, request.user, VIEW_OPERATION, pk=pk)


def _is_own_visit(request: SignedInRequest, visit: PremisesVisit) -> bool:
    membership = access.active_membership(request.user)
    return membership is not None and membership.agency_id == visit.agency_id


def _require_operations(request: SignedInRequest) -> None:
    _require_any(
        request,
        VIEW_OPERATION,
        message=_(
            "Only analysts, officers, caseworkers and case managers take part in operations."
        ),
    )


@login_required
@require_safe
def operation_list(request: SignedInRequest) -> HttpResponse:
    _require_operations(request)
    visible = (
        Operation.objects.visible_to(request.user, VIEW_OPERATION)
        .select_related("lead_agency")
        .annotate(visit_count=Count("visits"))
        .order_by("-starts_on", "-id")
    )
    page = Paginator(visible, page_size(request)).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    record(
        IntelligenceAction.OPERATIONS_LISTED,
        actor=request.user,
        detail={"operation_ids": [operation.pk for operation in page.object_list]},
    )
    return render(
        request,
        "intelligence/operation_list.html",
        {"page": page, "may_create": access.user_may(request.user, ADD_OPERATION)},
    )


@login_required
def operation_create(request: SignedInRequest) -> HttpResponse:
    _require_any(
        request,
        ADD_OPERATION,
        message=_("Only officers, analysts and case managers start operations."),
    )
    form = OperationForm(posted_data(request), agency=_agency(request))
    return form_page(
        request,
        form,
        service=lambda: operations.operation_create(actor=request.user, **form.cleaned_data),
        success=lambda operation: _("%(name)s was started.") % {"name": operation.name},
        redirect_to=lambda operation: reverse(
            "intelligence:operation_detail", kwargs={"pk": operation.pk}
        ),
        page=lambda: render(request, "intelligence/operation_form.html", {"form": form}),
    )


def _indicator_labels(values: list[str]) -> list[str]:
    known = dict(Indicator.choices)
    return [str(known.get(value, value)) for value in values]


@login_required
@require_safe
def operation_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    _require_operations(request)
    operation = _operation(request, pk)
    visits = list(operation.visits.select_related("agency").order_by("-visited_on", "-id"))
    for visit in visits:
        visit.indicator_labels = _indicator_labels(visit.indicators)
    record(
        IntelligenceAction.OPERATION_VIEWED,
        actor=request.user,
        target=operation,
        detail={"visit_ids": [visit.pk for visit in visits]},
    )
    may_record = access.user_may(request.user, ADD_VISIT)
    context = {
        "operation": operation,
        "partners": list(operation.partner_agencies.order_by("name")),
        "visits": visits,
        "visit_form": VisitForm(auto_id="visit_%s") if may_record else None,
    }
    return render(request, "intelligence/operation_detail.html", context)


@login_required
def visit_create(request: SignedInRequest, pk: int) -> HttpResponse:
    """Record a premises visit in the operation, with the indicator checklist."""
    _require_any(request, ADD_VISIT, message=_("Your role does not record premises visits."))
    operation = _operation(request, pk)
    form = VisitForm(posted_data(request), auto_id="visit_%s")
    return form_page(
        request,
        form,
        service=lambda: operations.visit_record(
            actor=request.user, operation=operation, **form.cleaned_data
        ),
        success=_("The visit was recorded."),
        redirect_to=lambda visit: reverse("intelligence:visit_detail", kwargs={"pk": visit.pk}),
        page=lambda: render(
            request, "intelligence/visit_form.html", {"form": form, "operation": operation}
        ),
    )


@login_required
@require_safe
def visit_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    _require_operations(request)
    visit = _visit(request, pk)
    user = request.user
    case = None
    if visit.case_id is not None:
        case = Case.objects.visible_to(user, VIEW_CASE).filter(pk=visit.case_id).first()
    report = None
    if visit.report_id is not None:
        report = (
            audience.readable_reports(user).filter(pk=visit.report_id).only("pk", "title").first()
        )
    notes_shown = _is_own_visit(request, visit)
    record(
        IntelligenceAction.VISIT_VIEWED,
        actor=user,
        target=visit,
        detail={"operation_id": visit.operation_id, "notes_shown": notes_shown},
    )
    context = {
        "visit": visit,
        # Notes may name people: the visiting agency alone reads them (as in the API).
        "notes_shown": notes_shown,
        "indicator_labels": _indicator_labels(visit.indicators),
        "case": case,
        "report": report,
        "may_start_case": visit.case_id is None and access.user_may(user, ADD_CASE),
        "may_start_report": visit.report_id is None and access.user_may(user, ADD_REPORT),
    }
    return render(request, "intelligence/visit_detail.html", context)


@login_required
@require_POST
def visit_start_case(request: SignedInRequest, pk: int) -> HttpResponse:
    """One click: open a case from the visit (its likely exploitation, how the person was
    identified, the region), link it to the visit, and go to the new case."""
    _require_any(request, ADD_CASE, message=_("Only caseworkers and case managers open cases."))
    visit = _visit(request, pk)
    if visit.case_id is not None:
        messages.info(request, _("A case has already been opened from this visit."))
        return redirect("intelligence:visit_detail", pk=visit.pk)
    initial = operations.visit_start_case(actor=request.user, visit=visit)
    initial.pop("visit", None)
    try:
        with transaction.atomic():
            case = casework.case_create(actor=request.user, **initial)
            operations.visit_link(actor=request.user, visit=visit, case=case)
    except ValidationError as error:
        _error_message(request, error)
        return redirect("intelligence:visit_detail", pk=visit.pk)
    messages.success(
        request,
        _("Case %(reference)s was opened from the visit. Add what you know about the person.")
        % {"reference": case.reference},
    )
    return redirect("casework:case_detail", pk=case.pk)


def _visit_report_initial(request: SignedInRequest, visit: PremisesVisit) -> dict[str, Any]:
    initial = operations.visit_start_report(actor=request.user, visit=visit)
    initial.pop("visit", None)
    initial["entities"] = entity_lines(initial.get("entities") or [])
    initial["sharing_group"] = None
    linked = ""
    if visit.case_id is not None:
        found = (
            Case.objects.visible_to(request.user, VIEW_CASE)
            .filter(pk=visit.case_id)
            .values_list("reference", flat=True)
            .first()
        )
        linked = found or ""
    initial["linked_cases"] = linked
    return initial


@login_required
def visit_start_report(request: SignedInRequest, pk: int) -> HttpResponse:
    """The report form, filled in from the visit; saving it links the report to the visit."""
    _require_any(
        request,
        ADD_REPORT,
        message=_("Only analysts, officers, caseworkers and case managers write intelligence."),
    )
    visit = _visit(request, pk)
    if visit.report_id is not None:
        messages.info(request, _("A report has already been written from this visit."))
        return redirect("intelligence:visit_detail", pk=visit.pk)
    form = ReportForm(
        posted_data(request),
        user=request.user,
        agency=_agency(request),
        initial=_visit_report_initial(request, visit),
    )
    return form_page(
        request,
        form,
        service=lambda: _report_create(request, form, visit=visit),
        success=_created(request),
        redirect_to=_report_url,
        page=lambda: _report_form_page(
            request,
            form,
            title=_("Write an intelligence report from a visit"),
            new=True,
            visit=visit,
            visit_notes_carried=_is_own_visit(request, visit),
            cancel_url=reverse("intelligence:visit_detail", args=[visit.pk]),
        ),
    )
