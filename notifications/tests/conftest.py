"""Fixtures of the notification tests: the people are the suite's (alice at Harbour
Trust, charlie at Northshire Council); ``make_notification`` writes an outbox row the
way ``notify`` does, without queuing a task."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.utils import timezone

from agencies.models import Agency, User
from notifications.models import Notification

MakeNotification = Callable[..., Notification]


@pytest.fixture
def make_notification(harbour: Agency) -> MakeNotification:
    counter = iter(range(1, 10_000))

    def make(
        recipient: User,
        *,
        message: str = "A new urgent referral is waiting for Northshire Council",
        created_at: datetime | None = None,
        **fields: Any,
    ) -> Notification:
        n = next(counter)
        return Notification.objects.create(
            recipient=recipient,
            kind=fields.pop("kind", "referral.received"),
            target_type="agencies.agency",
            target_id=str(harbour.pk),
            message=message,
            url=fields.pop("url", f"/referrals/{n}/"),
            dedup_key=fields.pop("dedup_key", f"test:{n}"),
            created_at=created_at or timezone.now(),
            **fields,
        )

    return make
