"""API plumbing every app's API shares: pagination, parsing, errors, OPTIONS.

Imports no app: the audit row for an API 403 is added by ``audit.api_errors``, the
exception handler the settings name, which wraps ``exception_handler`` below.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.metadata import SimpleMetadata
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser as DrfJSONParser
from rest_framework.request import Request, clone_request
from rest_framework.response import Response

from core.errors import IllegalTransition

if TYPE_CHECKING:
    # Not at run time: ``APIView`` reads DEFAULT_PARSER_CLASSES (``JSONParser``) and
    # DEFAULT_METADATA_CLASS (``ActionMetadata``, below) while its own module is still
    # loading, so this module must load without it.
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


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

    def get_page_size(self, request: Request) -> int | None:
        """A ``page_size`` the schema's integer is not (a word, 0, -3) is a 400 naming
        it, not quietly the default page (DRF's own reading): the answer would be a page
        the caller did not ask for. One above the maximum is the maximum."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            try:
                wanted = int(raw)
            except ValueError:
                wanted = 0
            if wanted < 1:
                raise exceptions.ValidationError(
                    {self.page_size_query_param: ["A whole number, 1 or more."]}
                )
        return super().get_page_size(request)


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


# --- Request bodies -------------------------------------------------------------------

# No Concord body nests anywhere near this deep; a body that does is refused before any
# serializer, audit row or error message walks it (each of which recurses).
MAX_JSON_DEPTH = 64


def json_depth_exceeds(data: Any, limit: int) -> bool:
    """Whether ``data`` (parsed JSON) nests lists and objects more than ``limit`` deep,
    found without recursion."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)
    return False


class JSONParser(DrfJSONParser):
    """DRF's JSON parser (REST_FRAMEWORK's first parser), with a body nested too deep for
    Python's parser (a ``RecursionError``, thousands of ``[``) or deeper than
    ``MAX_JSON_DEPTH`` refused as the 400 of malformed JSON, never a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            data = None
            too_deep = True
        else:
            too_deep = json_depth_exceeds(data, MAX_JSON_DEPTH)
        if too_deep:
            raise exceptions.ParseError(
                f"JSON parse error - nested more than {MAX_JSON_DEPTH} levels deep."
            )
        return data


class RequestEntityTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def _refused_body(exc: Exception) -> exceptions.APIException | None:
    """Django's refusals of a body over its limits, as API errors: a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, too many fields or files a 400. Django would log
    them as a security ERROR with a traceback and answer an HTML 400; a client sending too
    much is a warning."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = (
            f"The request body is too large: at most {limit} bytes, files aside." if limit else None
        )
        refused: exceptions.APIException = RequestEntityTooLarge(detail)
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        refused = exceptions.ParseError(str(exc))
    else:
        return None
    logger.warning("Refused a request body: %s", exc)
    return refused


def exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    """DRF's handler, plus: an illegal transition is a 409, and a service's ValidationError
    a 400 with field errors. Django's PermissionDenied (a service's rule) is DRF's 403. A
    body over Django's limits is a 413 (too large) or a 400 (too many fields or files)."""
    if isinstance(exc, IllegalTransition):
        return Response({"detail": " ".join(exc.messages)}, status=409)
    from rest_framework.views import exception_handler as drf_exception_handler  # see above

    exc = _refused_body(exc) or exc
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
