from typing import Any

from django.http import HttpRequest

from .models import Notification


def unread(request: HttpRequest) -> dict[str, Any]:
    """``unread_notifications``: the signed-in user's unread count, for the header.

    One COUNT over the inbox index, and none for anonymous visitors.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0}
    return {"unread_notifications": Notification.objects.for_recipient(user).unread().count()}
