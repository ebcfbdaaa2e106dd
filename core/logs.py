"""Logging filters named in the LOGGING setting."""

from __future__ import annotations

import logging


class AsWarningWithoutTraceback(logging.Filter):
    """A record its logger writes as an ERROR with a traceback that is a client's mistake,
    not the server's: Django's ``django.security.RequestDataTooBig`` (a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE, answered 413 by ``core.views.bad_request``). Kept, as a
    warning, without the traceback that would page someone."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno = logging.WARNING
            record.levelname = logging.getLevelName(logging.WARNING)
        record.exc_info = None
        record.exc_text = None
        return True
