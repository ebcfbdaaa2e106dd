from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from .audit_actions import AuthAction
from .client import client_ip
from .context import RequestContext, current
from .record import record

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Gives every request an id (or keeps a well-formed X-Request-ID from the proxy).

    The id and the client address travel to every audit row written while serving the
    request, and the id is echoed in the response so a user's report can be traced.
    The client address is ``audit.client.client_ip``: ``REMOTE_ADDR``, or behind
    ``CONCORD_TRUSTED_PROXIES`` proxies the address the outermost of them saw; a
    client-supplied X-Forwarded-For is never believed.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        # Carried on the request for the views and the error pages; not an attribute
        # django-stubs declares on HttpRequest.
        request.request_id = request_id  # type: ignore[attr-defined]
        token = current.set(
            RequestContext(
                request_id=request_id,
                ip_address=client_ip(request),
                request=request,
            )
        )
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response["X-Request-ID"] = request_id
        return response


class AuthorizationFailureMiddleware:
    """Records every 403 raised by an HTML view (the API records its own, api_errors)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, PermissionDenied):
            record(
                AuthAction.ACCESS_FORBIDDEN, detail={"path": request.path, "method": request.method}
            )
