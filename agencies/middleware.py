from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from .signals import SESSION_AUTH_AT


class SessionLifetimeMiddleware:
    """Ends a browser session CONCORD_SESSION_MAX_HOURS after login, however active.

    Idle expiry is the session cookie's age, renewed on every request (settings).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and hasattr(request, "session"):
            started = request.session.get(SESSION_AUTH_AT)
            if started is None or time.time() - started > settings.SESSION_MAX_HOURS * 3600:
                # The request goes on as anonymous: pages send the user to log in again,
                # the API answers 401/403.
                logout(request)
        return self.get_response(request)
