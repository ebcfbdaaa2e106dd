"""Reads shared by the pages and the API: a person sees only their own notifications."""

from __future__ import annotations

from typing import Any

from agencies import access

from .models import VIEW_NOTIFICATION, Notification


def own_notification_or_404(user: Any, pk: Any) -> Notification:
    """The user's own notification ``pk``; anyone else's is 404, as if it did not exist,
    and the attempt is audited (``access.get_visible_or_404``)."""
    return access.get_visible_or_404(Notification.objects.all(), user, VIEW_NOTIFICATION, pk=pk)
