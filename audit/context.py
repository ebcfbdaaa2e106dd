"""Per-request facts (request id, client address, user) that audit rows pick up."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip_address: str | None = None
    request: Any = None


current: ContextVar[RequestContext] = ContextVar("concord_request", default=RequestContext())  # noqa: B039 - frozen
