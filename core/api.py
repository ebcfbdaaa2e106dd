"""API plumbing every app's API shares: pagination, errors, OPTIONS.

Imports no app: the audit row for an API 403 is added by ``audit.api_errors``, the
exception handler the settings name, which wraps ``exception_handler`` below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.metadata import SimpleMetadata
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request, clone_request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import IllegalTransition

if TYPE_CHECKING:
    # Not at run time: ``APIView`` reads DEFAULT_METADATA_CLASS (``ActionMetadata``, below)
    # while its own module is still loading.
    from rest_framework.views import APIView


class Pagination(PageNumberPagination):
    """The settings PAGE_SIZE and MAX_PAGE_SIZE, the pages' bounds (core.pagination), read
    at each request rather than when the class is made."""

    page_size_query_param = "page_size"

    @property
    def page_size(self) -> int:  # type: ignore[override]
        return settings.PAGE_SIZE

    @property
    def max_page_size(self) -> int:  # type: ignore[override]
        return settings.MAX_PAGE_SIZE


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
    """DRF's handler, plus: an illegal transition is a 409, and a service's ValidationError
    a 400 with field errors. Django's PermissionDenied (a service's rule) is DRF's 403."""
    if isinstance(exc, IllegalTransition):
        return Response({"detail": " ".join(exc.messages)}, status=409)
    if isinstance(exc, DjangoValidationError):
        exc = as_drf_validation_error(exc)
    return drf_exception_handler(exc, context)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


# --- OPTIONS ------------------------------------------------------------------------


_NOT_DOCUMENTED = object()


def documented_request_body(request: Request, view: APIView, method: str) -> Any:
    """The serializer that reads ``method``'s body on ``request``'s route, as the OpenAPI
    schema documents it: the action's ``@extend_schema(request=...)``, else the serializer
    the view gives for that action. ``None`` for a method documented with no body.

    drf-spectacular's own ``create_view`` builds the view as the schema generator does
    (the action set from the method, the action's schema class in place), so the answer
    is the schema's, never a second list to keep in step.
    """
    from drf_spectacular.generators import SchemaGenerator  # imports APIView: see above

    match = getattr(request, "resolver_match", None)
    if match is None or not hasattr(match.func, "cls"):
        return _NOT_DOCUMENTED
    generator = SchemaGenerator()  # holds the schema instance alive while it is used
    documented = generator.create_view(match.func, method)
    documented.request = clone_request(request, method)
    documented.args, documented.kwargs = view.args, view.kwargs
    schema = documented.schema
    schema.method = method
    body = schema.get_request_serializer()
    if isinstance(body, dict):  # {"multipart/form-data": DocumentSerializer}
        body = next(iter(body.values()), None)
    if body is None:
        return None
    if isinstance(body, type) and issubclass(body, serializers.BaseSerializer):
        return body(context={"request": request, "view": view})
    if isinstance(body, serializers.BaseSerializer):
        return body
    return _NOT_DOCUMENTED


class ActionMetadata(SimpleMetadata):
    """OPTIONS lists, for each method of the route that takes a body (POST, PUT, PATCH),
    the fields of the serializer that reads that body.

    DRF's ``SimpleMetadata`` asks the view for "its" serializer without saying which
    action, so ``OPTIONS /cases/<id>/needs/`` described the case's fields; it also skips
    PATCH and views without ``get_serializer``. Here each method's body is the one the
    OpenAPI schema documents (``documented_request_body``), so the two cannot disagree;
    a method documented with no body lists no fields. As in DRF, a method is described
    only to a caller who passes the view's permission checks (and, for PUT, may reach the
    object: a hidden one is 404 there, as everywhere).
    """

    body_methods = ("POST", "PUT", "PATCH")

    def determine_metadata(self, request: Request, view: APIView) -> dict[str, Any]:
        metadata = {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }
        actions = self.determine_actions(request, view)
        if actions:
            metadata["actions"] = actions
        return metadata

    def determine_actions(self, request: Request, view: APIView) -> dict[str, Any]:
        actions: dict[str, Any] = {}
        for method in self.body_methods:
            if method not in view.allowed_methods:
                continue
            view.request = clone_request(request, method)
            try:
                view.check_permissions(view.request)
                if method == "PUT" and hasattr(view, "get_object"):
                    view.get_object()
            except (exceptions.APIException, DjangoPermissionDenied, Http404):
                continue
            finally:
                view.request = request
            body = documented_request_body(request, view, method)
            if body is None:
                actions[method] = {}
            elif body is not _NOT_DOCUMENTED:
                actions[method] = self.get_serializer_info(body)
        return actions
