from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

SESSION_AUTH_AT = "concord_authenticated_at"


@receiver(user_logged_in, dispatch_uid="session_lifetime_start")
def remember_login_time(sender: Any, request: Any, **kwargs: Any) -> None:
    """Stamp the session with its login time, for SessionLifetimeMiddleware."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_AUTH_AT] = int(time.time())
