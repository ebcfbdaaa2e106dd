"""Evidence requests and break-glass in the API: the same services, reads and scoping
as the pages (``views``).

Break-glass events are not under ``/cases/{id}/``: a reviewer may not see the case (a
partnership manager reviews the event, never the person), so an event is reached by its
own id. Opening one is ``POST /cases/{id}/break-glass/`` and a justice outcome is
``/cases/{id}/outcomes/`` (``casework.api.views.CaseViewSet``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from agencies import access
from agencies.auth import SignedInApiRequest

from ..api.serializers import ReasonSerializer
from ..models import BreakGlassEvent, Case
from ..permissions import REQUEST_EVIDENCE, REVIEW_BREAK_GLASS, VIEW_CASE
from . import break_glass, reads, services
from .serializers import (
    BreakGlassEventDetailSerializer,
    BreakGlassEventSerializer,
    BreakGlassReviewSerializer,
    EvidenceApproveSerializer,
    EvidenceRequestSerializer,
)

# --- Evidence requests ------------------------------------------------------------------


class EvidenceRequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """An officer's requests for evidence, and the lead agency's decisions on them.

    The officer who asked and the lead agency's caseworkers and case managers see a
    request; it is 404 to everyone else.
    """

    # The default IsAuthenticated lets only a signed-in user reach a handler, so the
    # methods DRF declares with a plain Request read the user from self.request.
    request: SignedInApiRequest
    serializer_class = EvidenceRequestSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return reads.visible_requests(self.request.user)

    def get_object(self) -> Any:
        return reads.evidence_request_get(self.request.user, self.kwargs["pk"])

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The role first (403 whatever the body), then the case, resolved like every id in
        # a body: one that does not exist and one the caller may not see are the same 400.
        if not access.user_may(self.request.user, REQUEST_EVIDENCE):
            raise PermissionDenied("Only police officers ask for evidence.")
        body = EvidenceRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        case = access.get_visible_or_400(
            Case.objects.select_related("lead_agency"),
            self.request.user,
            VIEW_CASE,
            field="case",
            pk=data.pop("case_id"),
        )
        created = services.evidence_request_create(
            actor=self.request.user,
            case=case,
            purpose=data["purpose"],
            legal_basis=data["legal_basis"],
            crime_reference=data.get("crime_reference", ""),
            items=[dict(item) for item in data["items"]],
        )
        return Response(self._show(created.pk), status=status.HTTP_201_CREATED)

    def _show(self, pk: int) -> dict[str, Any]:
        return EvidenceRequestSerializer(self.get_queryset().get(pk=pk)).data

    @extend_schema(request=EvidenceApproveSerializer, responses=EvidenceRequestSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: SignedInApiRequest, pk: str) -> Response:
        found = self.get_object()
        body = EvidenceApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        services.evidence_request_approve(
            actor=request.user,
            request=found,
            items=[dict(item) for item in data["items"]],
            victim_consulted=data["victim_consulted"],
            expires_at=data.get("expires_at"),
            note=data.get("note", ""),
        )
        return Response(self._show(found.pk))

    def _with_reason(self, request: Request, service: Any) -> Response:
        found = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        service(actor=request.user, request=found, reason=body.validated_data["reason"])
        return Response(self._show(found.pk))

    @extend_schema(request=ReasonSerializer, responses=EvidenceRequestSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str) -> Response:
        return self._with_reason(request, services.evidence_request_decline)

    @extend_schema(request=None, responses=EvidenceRequestSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: SignedInApiRequest, pk: str) -> Response:
        found = self.get_object()
        services.evidence_request_withdraw(actor=request.user, request=found)
        return Response(self._show(found.pk))

    @extend_schema(request=ReasonSerializer, responses=EvidenceRequestSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str) -> Response:
        return self._with_reason(request, services.evidence_request_revoke)


# --- Break-glass -----------------------------------------------------------------------


class BreakGlassViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Break-glass openings: the person who broke the glass, its reviewers and the lead
    agency's case managers see one (404 to everyone else, audited); its reviewers record
    the review. ``to-review/`` is the reviewer's task list, oldest first. Everywhere, the
    reason and the review note only to those who may read who the person is (and the
    breaker); the grounds to all (``reads.break_glass_events``)."""

    serializer_class = BreakGlassEventSerializer

    def get_queryset(self) -> QuerySet[BreakGlassEvent]:
        user = self.request.user
        return (
            reads.break_glass_events(user)
            .visible_to(user, REVIEW_BREAK_GLASS)
            .order_by("-opened_at", "-pk")
        )

    def get_object(self) -> BreakGlassEvent:
        return reads.break_glass_event(self.request.user, self.kwargs["pk"])

    def _require_review_role(self) -> None:
        # A role that never reviews: 403 before any id is looked up.
        if not access.user_may(self.request.user, REVIEW_BREAK_GLASS):
            raise PermissionDenied("Your role does not review break-glass openings.")

    def _detail(self, event: BreakGlassEvent) -> dict[str, Any]:
        events_read = reads.describe_reads(event.case, reads.break_glass_reads(event))
        return BreakGlassEventDetailSerializer(event, context={"reads": events_read}).data

    @extend_schema(responses=BreakGlassEventDetailSerializer)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._detail(self.get_object()))

    @extend_schema(responses=BreakGlassEventSerializer(many=True))
    @action(detail=False, url_path="to-review", url_name="to-review")
    def to_review(self, request: Request) -> Response:
        """The openings whose review is the caller's, unreviewed, oldest first; ``overdue``
        marks those unreviewed after BREAK_GLASS_REVIEW_OVERDUE_HOURS."""
        self._require_review_role()
        events = (
            reads.break_glass_events(request.user)
            .to_review_by(request.user)
            .unreviewed()
            .order_by("opened_at", "pk")
        )
        page = self.paginate_queryset(events)
        return self.get_paginated_response(BreakGlassEventSerializer(page, many=True).data)

    @extend_schema(request=BreakGlassReviewSerializer, responses=BreakGlassEventDetailSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request: SignedInApiRequest, pk: str) -> Response:
        self._require_review_role()
        event = self.get_object()
        if not reads.break_glass_may_review(request.user, event):
            # Sees the event (the lead's case manager, not its reviewer) but may not review.
            raise PermissionDenied("Only the reviewers of this break-glass review it.")
        body = BreakGlassReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        break_glass.break_glass_review(
            actor=request.user, event=event, note=body.validated_data["note"]
        )
        return Response(self._detail(reads.break_glass_event(request.user, event.pk)))
