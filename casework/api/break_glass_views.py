"""Break-glass events in the API (issue 14): the breaker's own, and the reviewers' task
list and review. The same services and scoping as the pages (``casework/evidence.py``,
``BreakGlassEvent.objects.visible_to`` / ``to_review_by``).

Not under ``/cases/{id}/``: a reviewer may not see the case (a partnership manager reviews
the event, never the person), so an event is reached by its own id.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from agencies import access

from .. import evidence
from ..models import BreakGlassEvent
from ..permissions import REVIEW_BREAK_GLASS
from . import serializers as s


class BreakGlassViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Break-glass openings: the person who broke the glass, its reviewers and the lead
    agency's case managers see one (404 to everyone else, audited); its reviewers record
    the review. ``to-review/`` is the reviewer's task list, oldest first. Everywhere, the
    reason and the review note only to those who may read who the person is (and the
    breaker); the grounds to all (``evidence.break_glass_events``)."""

    serializer_class = s.BreakGlassEventSerializer

    def get_queryset(self) -> QuerySet[BreakGlassEvent]:
        user = self.request.user
        return (
            evidence.break_glass_events(user)
            .visible_to(user, REVIEW_BREAK_GLASS)
            .order_by("-opened_at", "-pk")
        )

    def get_object(self) -> BreakGlassEvent:
        return evidence.break_glass_event(self.request.user, self.kwargs["pk"])

    def _require_review_role(self) -> None:
        # A role that never reviews: 403 before any id is looked up.
        if not access.user_may(self.request.user, REVIEW_BREAK_GLASS):
            raise PermissionDenied("Your role does not review break-glass openings.")

    def _detail(self, event: BreakGlassEvent) -> dict[str, Any]:
        reads = evidence.describe_reads(event.case, evidence.break_glass_reads(event))
        return s.BreakGlassEventDetailSerializer(event, context={"reads": reads}).data

    @extend_schema(responses=s.BreakGlassEventDetailSerializer)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._detail(self.get_object()))

    @extend_schema(responses=s.BreakGlassEventSerializer(many=True))
    @action(detail=False, url_path="to-review", url_name="to-review")
    def to_review(self, request: Request) -> Response:
        """The openings whose review is the caller's, unreviewed, oldest first; ``overdue``
        marks those unreviewed after BREAK_GLASS_REVIEW_OVERDUE_HOURS."""
        self._require_review_role()
        events = (
            evidence.break_glass_events(request.user)
            .to_review_by(request.user)
            .unreviewed()
            .order_by("opened_at", "pk")
        )
        page = self.paginate_queryset(events)
        return self.get_paginated_response(s.BreakGlassEventSerializer(page, many=True).data)

    @extend_schema(
        request=s.BreakGlassReviewSerializer, responses=s.BreakGlassEventDetailSerializer
    )
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str) -> Response:
        self._require_review_role()
        event = self.get_object()
        if not evidence.break_glass_may_review(request.user, event):
            # Sees the event (the lead's case manager, not its reviewer) but may not review.
            raise PermissionDenied("Only the reviewers of this break-glass review it.")
        body = s.BreakGlassReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        evidence.break_glass_review(
            actor=request.user, event=event, note=body.validated_data["note"]
        )
        return Response(self._detail(evidence.break_glass_event(request.user, event.pk)))
