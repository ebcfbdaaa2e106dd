"""The dashboards API: a dashboard as JSON, the same published numbers as the pages.

The body is ``PublishedDashboard.as_dict()``: suppressed counts are the marker ("<10"),
never the number. The answers are the pages' (``scope``): a role that may open no
dashboard of the kind asked for gets 403, before the id is looked up; a dashboard the
caller may not open (another partnership, another agency), one that does not exist and an
id that is not one ("abc") 404, as a hidden record does (JSON, like every API route); a
bad query parameter 400 naming it. Every read is audited with the filters it used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ErrorSerializer

from .. import exports
from ..audit_actions import DashboardAction
from ..filters import parse_filters
from ..measures import build_dashboard
from ..scope import Scope, agency_scope, partnership_scope
from ..suppression import publish
from .schema import DASHBOARD, FIELD_ERRORS, FILTER_PARAMETERS


def _id_parameter(name: str, what: str) -> OpenApiParameter:
    # The route takes any path segment, so that a malformed id answers this API's JSON
    # 404 rather than the site's HTML one; what it documents is still an integer.
    return OpenApiParameter(name, int, OpenApiParameter.PATH, description=f"The {what}'s id.")


def _responses(what: str) -> dict[int, Any]:
    return {
        200: OpenApiResponse(DASHBOARD, description=f"The {what} dashboard, published."),
        400: OpenApiResponse(FIELD_ERRORS, description="A query parameter is not valid."),
        403: OpenApiResponse(ErrorSerializer, description=f"Your role reads no {what} dashboard."),
        404: OpenApiResponse(ErrorSerializer, description=f"No {what} dashboard you may open."),
    }


def read_dashboard(request: Request, scope_for: Callable[[Any, Any], Scope], pk: str) -> Response:
    """Role (403) and scope (404), decided by ``scope_for`` as for the pages, then filters
    (400); then the published dashboard, with one audit event carrying the filters as
    codes and ids (as the pages do)."""
    user = request.user
    scope = scope_for(user, pk)
    filters = parse_filters(scope, request.query_params)
    published = publish(build_dashboard(scope, filters))
    exports.audit_read(
        DashboardAction.VIEWED, actor=user, scope=scope, filters=filters, format="api"
    )
    return Response(published.as_dict())


class PartnershipDashboardView(APIView):
    @extend_schema(
        operation_id="dashboards_partnership_retrieve",
        parameters=[_id_parameter("partnership_id", "partnership"), *FILTER_PARAMETERS],
        responses=_responses("partnership"),
    )
    def get(self, request: Request, partnership_id: str) -> Response:
        """A partnership's dashboard, for the partnership managers of its agencies."""
        return read_dashboard(request, partnership_scope, partnership_id)


class AgencyDashboardView(APIView):
    @extend_schema(
        operation_id="dashboards_agency_retrieve",
        parameters=[_id_parameter("agency_id", "agency"), *FILTER_PARAMETERS],
        responses=_responses("agency"),
    )
    def get(self, request: Request, agency_id: str) -> Response:
        """An agency's dashboard, for its case managers and partnership managers and the
        partnership managers of its partnerships."""
        return read_dashboard(request, agency_scope, agency_id)
