"""The API's exception handler (REST_FRAMEWORK's EXCEPTION_HANDLER): core's, audited.

Every 403 is recorded, at both doors: an HTML view's by ``AuthorizationFailureMiddleware``
(``audit.middleware``), the API's here, as the middleware never sees them.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from rest_framework import exceptions

from core import api

from .audit_actions import AuthAction
from .record import record


def exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    """``core.api.exception_handler`` (409 for an illegal transition, 400 for a service's
    ValidationError), and every 403 audited, whether DRF's PermissionDenied (a view's role
    check) or Django's (a service's rule, which DRF turns into the same 403)."""
    response = api.exception_handler(exc, context)
    if isinstance(exc, exceptions.PermissionDenied | DjangoPermissionDenied):
        request = context.get("request")
        record(
            AuthAction.ACCESS_FORBIDDEN,
            actor=getattr(request, "user", None)
            if request and request.user.is_authenticated
            else None,
            detail={
                "path": request.path if request else "",
                "method": request.method if request else "",
            },
        )
    return response
