"""The intelligence API: the same audience, search and services as the pages.

- ``/intelligence/``: search and list (``search.search_reports``), and write a report.
- ``/intelligence/{id}/``: read a report as its reader may (``reads.report_read``:
  fields the reader may not see are absent); change it, re-grade it, submit or archive
  it (PATCH).
- ``/intelligence/{id}/acknowledge-conditions/``: accept a C report's conditions.
- ``/intelligence/matches/``: the match inbox: the kind and your own report, never the
  other agency (as in the browser); ``/intelligence/matches/{id}/`` opens one match
  (audited) and names the agency to contact. Never the other report's content.
- ``/operations/`` and ``/operations/{id}/visits/``: operations and premises visits.

A role without the capability answers 403, checked before any record is looked up (as
in the browser); a report, match or operation the caller may not see answers 404 (the
services audit the attempt); bad input answers 400 with field errors.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Case as SqlCase
from django.db.models import Exists, F, OuterRef, QuerySet, Subquery, Value, When
from django.utils.translation import gettext as _
from django_filters import filters as django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from agencies import access
from agencies.auth import SignedInApiRequest
from audit.record import record
from casework.models import Case
from casework.permissions import VIEW_CASE
from core.errors import IllegalTransition

from .. import audience, operations, reads, report_fields, reports
from ..audit_actions import IntelligenceAction
from ..filters import ReportFilter
from ..models import (
    Entity,
    IntelligenceReport,
    Match,
    Operation,
    PremisesVisit,
    ReportStatus,
)
from ..permissions import (
    ADD_OPERATION,
    ADD_REPORT,
    ADD_VISIT,
    VIEW_MATCH,
    VIEW_OPERATION,
    VIEW_REPORT,
)
from ..search import record_search, search_reports
from .serializers import (
    AcknowledgeSerializer,
    MatchDetailSerializer,
    MatchSerializer,
    OperationSerializer,
    ReportListSerializer,
    ReportSerializer,
    ReportWriteSerializer,
    VisitSerializer,
)


def _require_role(user: Any, *perms: str, message: str) -> None:
    """403 (audited by the API's exception handler) unless the role holds one of ``perms``."""
    if not any(access.user_may(user, perm) for perm in perms):
        raise PermissionDenied(message)


def _require_reader_or_writer(user: Any) -> None:
    _require_role(
        user,
        VIEW_REPORT,
        ADD_REPORT,
        message=_("Only analysts, officers, caseworkers and case managers use intelligence."),
    )


def _filter_parameters() -> list[OpenApiParameter]:
    """The query parameters of the report list, read from ``ReportFilter`` itself."""
    parameters = []
    for name, declared in ReportFilter.base_filters.items():
        kind = OpenApiTypes.DATE if isinstance(declared, django_filters.DateFilter) else str
        choices = declared.extra.get("choices")
        parameters.append(
            OpenApiParameter(
                name,
                kind,
                description=str(declared.extra.get("help_text") or declared.label),
                enum=[value for value, _label in choices] if choices else None,
            )
        )
    return parameters


def reading_data(user: Any, report: IntelligenceReport) -> dict[str, Any]:
    """The audited read of ``report`` as JSON: only the fields the reader may see."""
    reading = reads.report_read(user, report)
    data: dict[str, Any] = {
        **reading.data,
        "level": reading.level,
        "must_acknowledge": reading.must_acknowledge,
        "grading": reading.report.grading,
    }
    if "entities" in data:
        # With their normal form (E.164 for a phone), which the reader may see too.
        data["entities"] = list(
            reading.report.entities.order_by("kind", "pk").values("kind", "value", "normalised")
        )
    return ReportSerializer(data).data


class IntelligenceReportViewSet(viewsets.GenericViewSet):
    """Intelligence reports, scoped by the audience rule (distribution, TLP, role)."""

    serializer_class = ReportSerializer
    queryset = IntelligenceReport.objects.none()  # every read goes through the services
    filter_backends: list[Any] = []  # ``search_reports`` filters, with ReportFilter

    @extend_schema(parameters=_filter_parameters(), responses=ReportListSerializer(many=True))
    def list(self, request: Request) -> Response:
        """Search the reports you may read: newest first, or best match first with ``q``.
        One audit event per page, naming the reports given, without the words searched."""
        _require_role(
            request.user,
            VIEW_REPORT,
            ADD_REPORT,
            message=_("Your role does not read or write intelligence."),
        )
        filterset, results = search_reports(request.user, request.query_params)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        page = self.paginate_queryset(results)
        # The API always pages, by page number (DEFAULT_PAGINATION_CLASS).
        assert page is not None and isinstance(self.paginator, PageNumberPagination)
        assert self.paginator.page is not None
        rows = ReportListSerializer(page, many=True, context={"request": request}).data
        record_search(
            request.user, filterset, found=self.paginator.page.paginator.count, shown=page
        )
        return self.get_paginated_response(rows)

    @extend_schema(request=ReportWriteSerializer, responses={201: ReportSerializer})
    def create(self, request: SignedInApiRequest) -> Response:
        """Write a report for your agency: a draft, or submitted with ``"status":
        "submitted"``. Answers with your full view of it. A submitted report is matched
        against other agencies' reports by a worker moments later: matches appear in the
        match inbox, never in this answer."""
        _require_role(
            request.user,
            ADD_REPORT,
            message=_("Only analysts, officers, caseworkers and case managers write intelligence."),
        )
        body = ReportWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        target = data.pop("status", ReportStatus.DRAFT)
        for reason in ("regrade_reason", "archive_reason"):
            if data.pop(reason, ""):
                raise ValidationError(
                    {reason: [_("A new report has nothing to re-grade or archive.")]}
                )
        if target == ReportStatus.ARCHIVED:
            raise ValidationError(
                {"status": [_("A new report is a draft or submitted; archive it later.")]}
            )
        with transaction.atomic():
            report = reports.report_create(actor=request.user, **data)
            if target == ReportStatus.SUBMITTED:
                report = reports.report_submit(actor=request.user, report=report)
        return Response(reading_data(request.user, report), status=status.HTTP_201_CREATED)

    @extend_schema(responses=ReportSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        """A report as you may read it; 404 outside its audience. A role that never uses
        intelligence is refused (403) before any report is looked up, as in the browser."""
        _require_reader_or_writer(request.user)
        return Response(reading_data(request.user, reads.report_get(request.user, pk)))

    @extend_schema(request=ReportWriteSerializer, responses=ReportSerializer)
    def partial_update(self, request: SignedInApiRequest, pk: str) -> Response:
        """Change a report of your agency. All of the change happens, or none of it:

        1. on a submitted report, grading fields and named recipients (``tlp_recipients``)
           that change are a re-grade (``regrade_reason`` required, and a role that
           grades; the old grading is kept in ``grading_changes``);
        2. the other fields are changed (a submitted report's new entities are matched
           by a worker moments later);
        3. ``status``: ``submitted`` submits a draft, ``archived`` archives it.
        """
        user = request.user
        _require_role(
            user, ADD_REPORT, message=_("Only the originating agency may change this report.")
        )
        report = reads.report_get(user, pk)
        # The service's own check (403 outside the originating agency, 409 once archived),
        # first, and outside the transaction: a refusal's audit row must not be rolled
        # back with it.
        reports.require_editor(user, report)
        body = ReportWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        target = data.pop("status", None)
        regrade_reason = data.pop("regrade_reason", "").strip()
        archive_reason = data.pop("archive_reason", "")
        with transaction.atomic():
            if report.status == ReportStatus.SUBMITTED:
                self._regrade(user, report, data, regrade_reason)
                report.refresh_from_db()
            if data:
                report = reports.report_update(actor=user, report=report, **data)
            if target is not None and target != report.status:
                if target == ReportStatus.SUBMITTED:
                    report = reports.report_submit(actor=user, report=report)
                elif target == ReportStatus.ARCHIVED:
                    report = reports.report_archive(
                        actor=user, report=report, reason=archive_reason
                    )
                else:
                    raise IllegalTransition(_("A submitted report does not go back to draft."))
        return Response(reading_data(user, report))

    def _regrade(
        self, user: Any, report: IntelligenceReport, data: dict[str, Any], reason: str
    ) -> None:
        """Take the grading fields and the named recipients out of ``data``; re-grade
        with those that change (the browser's rule: a submitted report's readers are
        widened or narrowed only by a re-grade, with a reason)."""
        sent = {name: data.pop(name) for name in report_fields.GRADING_FIELDS if name in data}
        changed = {name: value for name, value in sent.items() if value != getattr(report, name)}
        recipients = data.pop("tlp_recipients", None)
        new_recipients = recipients is not None and report_fields.tlp_recipients_differ(
            report, recipients
        )
        if not changed and not new_recipients:
            return
        if not reason:
            named = sorted([*changed, *(["tlp_recipients"] if new_recipients else [])])
            raise ValidationError(
                {
                    "regrade_reason": [
                        _("Say why the grading changes: %(fields)s.") % {"fields": ", ".join(named)}
                    ]
                }
            )
        reports.report_regrade(
            actor=user, report=report, reason=reason, tlp_recipients=recipients, **changed
        )

    @extend_schema(request=AcknowledgeSerializer, responses=ReportSerializer)
    @action(detail=True, methods=["post"], url_path="acknowledge-conditions")
    def acknowledge_conditions(self, request: SignedInApiRequest, pk: str) -> Response:
        """Accept a C report's conditions; answers with the report, now readable. Send
        the ``conditions_version`` you read: if the report was re-graded since, nothing
        is accepted and the answer is a 409 (read the new conditions first). Roles that
        read no other agency's intelligence are refused first (403), as in the browser."""
        _require_role(
            request.user, VIEW_REPORT, message=_("Only analysts and officers read intelligence.")
        )
        report = reads.report_get(request.user, pk)
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reports.acknowledge_conditions(
            actor=request.user,
            report=report,
            conditions_version=body.validated_data.get("conditions_version"),
        )
        report.refresh_from_db()
        return Response(reading_data(request.user, report))

    @extend_schema(responses=MatchSerializer(many=True))
    @action(detail=False, methods=["get"])
    def matches(self, request: Request) -> Response:
        """Matches on your agency's reports: the kind of entity and your report, newest
        first. The other agency is named only when you open a match (``matches/{id}/``,
        audited), as in the browser. Never the other report's content, title or value.
        One audit event per page."""
        user = request.user
        _require_role(user, VIEW_MATCH, message=_("Your role is not told of matches."))
        page = self.paginate_queryset(match_rows(user))
        rows = MatchSerializer(page, many=True).data
        reads.matches_listed(user, [row["id"] for row in rows])
        return self.get_paginated_response(rows)

    @extend_schema(
        parameters=[
            OpenApiParameter("match_pk", int, OpenApiParameter.PATH, description="Match id")
        ],
        responses=MatchDetailSerializer,
    )
    @action(
        detail=False,
        methods=["get"],
        url_path=r"matches/(?P<match_pk>[^/.]+)",
        url_name="match-detail",
    )
    def match_detail(self, request: Request, match_pk: str) -> Response:
        """Open one match (audited): your report and the entity as it names it, and the
        agency to contact with its intelligence mailbox; the other report's id only when
        you may read it. 404 for a match you are not told of, as for one that does not
        exist."""
        user = request.user
        _require_role(user, VIEW_MATCH, message=_("Your role is not told of matches."))
        return Response(MatchDetailSerializer(reads.match_open(user, match_pk)).data)


def match_rows(user: Any) -> QuerySet[Any]:
    """``Match.objects.visible_to`` with what a row shows, in the same query: nothing of
    the other side (its agency is named when the match is opened)."""
    return (
        Match.objects.visible_to(user, VIEW_MATCH)
        .annotate(
            own_side=SqlCase(
                When(own_report_id=F("existing_report_id"), then=Value("existing")),
                default=Value("new"),
            ),
            own_report_title=Subquery(
                IntelligenceReport.objects.filter(pk=OuterRef("own_report_id")).values("title")[:1]
            ),
            own_value=Subquery(
                Entity.objects.filter(
                    report_id=OuterRef("own_report_id"),
                    kind=OuterRef("kind"),
                    normalised=OuterRef("normalised"),
                ).values("value")[:1]
            ),
        )
        .order_by("-created_at", "-id")
    )


# --- Operations and premises visits ---------------------------------------------------


class OperationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Operations led or partnered by the caller's agency, and their premises visits."""

    serializer_class = OperationSerializer

    def get_queryset(self) -> QuerySet[Operation]:
        return (
            Operation.objects.visible_to(self.request.user, VIEW_OPERATION)
            .select_related("lead_agency")
            .prefetch_related("partner_agencies")
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Operations your agency leads or partners; one audit event per page."""
        _require_role(
            request.user, VIEW_OPERATION, message=_("Your role does not take part in operations.")
        )
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None  # the API always pages (DEFAULT_PAGINATION_CLASS)
        record(
            IntelligenceAction.OPERATIONS_LISTED,
            actor=request.user,
            detail={"operation_ids": [operation.pk for operation in page]},
        )
        return self.get_paginated_response(OperationSerializer(page, many=True).data)

    @extend_schema(request=OperationSerializer, responses={201: OperationSerializer})
    def create(self, request: SignedInApiRequest) -> Response:
        """Start an operation led by your agency (officers, analysts, case managers)."""
        _require_role(
            request.user,
            ADD_OPERATION,
            message=_("Only officers, analysts and case managers start operations."),
        )
        body = OperationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        operation = operations.operation_create(actor=request.user, **body.validated_data)
        return Response(
            OperationSerializer(self.get_queryset().get(pk=operation.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    def _operation(self, request: Request, pk: str) -> Operation:
        """The operation if the caller's agency leads or partners it; 404 (audited when it
        exists) otherwise."""
        led_or_partnered = Operation.objects.select_related("lead_agency").prefetch_related(
            "partner_agencies"
        )
        return access.get_visible_or_404(led_or_partnered, request.user, VIEW_OPERATION, pk=pk)

    @extend_schema(methods=["GET"], responses=VisitSerializer(many=True))
    @extend_schema(methods=["POST"], request=VisitSerializer, responses={201: VisitSerializer})
    @action(detail=True, methods=["get", "post"])
    def visits(self, request: SignedInApiRequest, pk: str) -> Response:
        """Premises visits of the operation, newest first; POST records one."""
        user = request.user
        _require_role(
            user, VIEW_OPERATION, message=_("Your role does not take part in operations.")
        )
        operation = self._operation(request, pk)
        context = {"agency_id": access.require_membership(user).agency_id}
        if request.method == "POST":
            _require_role(user, ADD_VISIT, message=_("Your role does not record premises visits."))
            body = VisitSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            visit = operations.visit_record(actor=user, operation=operation, **body.validated_data)
            return Response(
                VisitSerializer(visit, context=context).data, status=status.HTTP_201_CREATED
            )
        visits = (
            PremisesVisit.objects.visible_to(user, VIEW_OPERATION)
            .filter(operation=operation)
            .select_related("agency")
            .annotate(
                # What the reader may follow from a visit, as on the visit's page.
                case_visible=Exists(
                    Case.objects.visible_to(user, VIEW_CASE).filter(pk=OuterRef("case_id"))
                ),
                report_readable=Exists(
                    audience.readable_reports(user).filter(pk=OuterRef("report_id"))
                ),
            )
            .order_by("-visited_on", "-id")
        )
        page = self.paginate_queryset(visits)
        assert page is not None  # the API always pages (DEFAULT_PAGINATION_CLASS)
        record(
            IntelligenceAction.VISITS_LISTED,
            actor=user,
            target=operation,
            detail={"visit_ids": [visit.pk for visit in page]},
        )
        return self.get_paginated_response(VisitSerializer(page, many=True, context=context).data)
