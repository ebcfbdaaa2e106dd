"""Project-wide API plumbing: pagination, errors, the API root, token login."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from agencies.errors import IllegalTransition
from audit import actions
from audit.record import record


class Pagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


def as_drf_validation_error(error: DjangoValidationError) -> exceptions.ValidationError:
    """A service's ValidationError as a 400 with field errors (``non_field_errors`` else)."""
    if hasattr(error, "error_dict"):
        detail: Any = {
            (field if field != "__all__" else "non_field_errors"): messages
            for field, messages in error.message_dict.items()
        }
    else:
        detail = {"non_field_errors": error.messages}
    return exceptions.ValidationError(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    """DRF's handler, plus: service ValidationErrors become 400s, and every 403 is audited,
    whether DRF's PermissionDenied (a view's role check) or Django's (a service's rule,
    which DRF turns into the same 403; the HTML middleware never sees the API's)."""
    if isinstance(exc, IllegalTransition):
        return Response({"detail": " ".join(exc.messages)}, status=409)
    if isinstance(exc, DjangoValidationError):
        exc = as_drf_validation_error(exc)
    response = drf_exception_handler(exc, context)
    if isinstance(exc, exceptions.PermissionDenied | DjangoPermissionDenied):
        request = context.get("request")
        record(
            actions.FORBIDDEN,
            actor=getattr(request, "user", None)
            if request and request.user.is_authenticated
            else None,
            detail={
                "path": request.path if request else "",
                "method": request.method if request else "",
            },
        )
    return response


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
