"""Sign-in throttles: by client address and by username.

Per address, so that one machine spraying a password across many usernames is slowed;
per username, so that guessing one account's password is slow from anywhere. The address
is ``audit.client.client_ip`` (a forged ``X-Forwarded-For`` is never believed), and the
username is folded and hashed before it becomes a cache key.
"""

from __future__ import annotations

import hashlib
from typing import Any

from rest_framework.throttling import SimpleRateThrottle

from audit.client import client_ip


class SignInAddressThrottle(SimpleRateThrottle):
    scope = "auth"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "unknown"}


class SignInUsernameThrottle(SimpleRateThrottle):
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
