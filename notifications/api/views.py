"""The inbox in the API: the caller's own notifications; anyone else's is 404."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from .. import services
from ..models import Notification
from ..reads import own_notification_or_404
from .serializers import NotificationSerializer


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's notifications, newest first; ``read`` marks one read."""

    serializer_class = NotificationSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Notification]:
        return Notification.objects.for_recipient(self.request.user).order_by("-created_at", "-pk")

    def get_object(self) -> Notification:
        return own_notification_or_404(self.request.user, self.kwargs["pk"])

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: Any = None) -> Response:
        notification = services.notification_mark_read(
            actor=request.user, notification=self.get_object()
        )
        return Response(self.get_serializer(notification).data)
