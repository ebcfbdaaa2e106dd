"""Sign-in throttles: by client address and by username.

Per address, so that one machine spraying a password across many usernames is slowed;
per username, so that guessing one account's password is slow from anywhere. The address
is ``audit.client.client_ip`` (a forged ``X-Forwarded-For`` is never believed), and the
username is folded and hashed before it becomes a cache key.

The counts live in the shared cache (Redis in production), so every web process sees the
same ones. When that cache cannot be reached, sign-in goes on: the throttles count in
this process's own memory (``fallback_cache``) and log a warning. Degraded, the limit
holds per process rather than for the whole site (with N web processes, up to N times the
rate), and the lock-out of a username after repeated failures (django-axes, counted in
the database) is untouched.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from audit.client import client_ip

logger = logging.getLogger(__name__)

# This process's own counts, used only while the shared cache is unreachable.
fallback_cache = LocMemCache("concord-sign-in-throttle", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
_WARN_EVERY_SECONDS = 60.0
_last_warning = 0.0


def _warn(error: Exception) -> None:
    # Once a minute per process, not once per sign-in attempt.
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= _WARN_EVERY_SECONDS or _last_warning == 0.0:
        _last_warning = now
        logger.warning(
            "The shared cache cannot be reached (%s): sign-in throttles count in the "
            "memory of this process until it is back.",
            error,
        )


class _SharedOrLocalThrottle(SimpleRateThrottle):
    """Counts in the shared cache, or, while it fails, in this process's memory."""

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as error:
            _warn(error)
            self.cache = fallback_cache
            return super().allow_request(request, view)


class SignInAddressThrottle(_SharedOrLocalThrottle):
    scope = "auth"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "unknown"}


class SignInUsernameThrottle(_SharedOrLocalThrottle):
    scope = "auth_username"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        data = getattr(request, "data", None)
        if data is None:
            data = request.POST
        username = data.get("username") if hasattr(data, "get") else None
        if not isinstance(username, str) or not username.strip():
            return None  # nothing to count against; the address throttle still applies
        digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": digest}
