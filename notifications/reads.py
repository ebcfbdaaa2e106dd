"""Reads shared by the pages and the API: a person sees only their own notifications."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from audit import actions
from audit.record import record

from .models import Notification


def own_notification_or_404(user: Any, pk: Any) -> Notification:
    """The user's own notification ``pk``; anyone else's is 404, as if it did not exist.

    An attempt on someone else's notification is audited: the user learns nothing, the
    trail learns everything.
    """
    try:
        return Notification.objects.for_recipient(user).get(pk=int(pk))
    except (Notification.DoesNotExist, ValueError, TypeError):
        hidden = Notification.objects.filter(pk=pk).first() if str(pk).isdigit() else None
        if hidden is not None:
            record(
                actions.ACCESS_DENIED,
                actor=user,
                target=hidden,
                detail={"reason": "not_recipient"},
            )
        raise Http404 from None
