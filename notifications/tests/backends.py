"""An email backend for tests whose mail server refuses every message."""

from __future__ import annotations

from smtplib import SMTPServerDisconnected
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend


class RefusingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        raise SMTPServerDisconnected("the test mail server hung up")
