"""The DATABASE_URL of a Django connection, for a process this one starts (a Celery
worker under the tests, gunicorn under the benchmark) to use the same database."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode


def url_of(settings_dict: dict[str, Any]) -> str:
    """``postgresql://user:password@host:port/name?options`` of ``connection.settings_dict``
    (under the tests, the test database ``test_…``)."""
    s = settings_dict
    auth = ""
    if s["USER"]:
        auth = quote(s["USER"], safe="")
        if s["PASSWORD"]:
            auth += ":" + quote(s["PASSWORD"], safe="")
        auth += "@"
    host = quote(s["HOST"] or "", safe="")  # a socket directory is percent-encoded
    port = f":{s['PORT']}" if s["PORT"] else ""
    # The settings add their own per-connection "options" (planner settings) again.
    options = {k: v for k, v in s["OPTIONS"].items() if isinstance(v, str | int) and k != "options"}
    query = f"?{urlencode(options)}" if options else ""
    return f"postgresql://{auth}{host}{port}/{quote(s['NAME'], safe='')}{query}"
