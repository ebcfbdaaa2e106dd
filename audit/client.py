"""The client's network address, the one way every part of Concord reads it.

Behind ``CONCORD_TRUSTED_PROXIES`` reverse proxies (default 0: Concord faces the clients
itself), the client is the address the outermost trusted proxy saw: the
``CONCORD_TRUSTED_PROXIES``-th entry of ``X-Forwarded-For`` counted from the right, since
each proxy appends the address it received the request from. Anything further left was
written by the client and is never believed — a random ``X-Forwarded-For`` must not give
a caller a fresh sign-in throttle or a false address in the audit trail.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings


def client_ip(request: Any) -> str | None:
    """The address to throttle, lock out and audit ``request`` by."""
    meta = request.META
    remote: str | None = meta.get("REMOTE_ADDR") or None
    proxies: int = settings.TRUSTED_PROXIES
    if proxies == 0:
        return remote
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:
        # Fewer hops than proxies: the request did not come through all of them.
        return remote
    candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
