from typing import Any

from django.http import HttpRequest

from . import access


def membership(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's membership, for navigation by role."""
    user = getattr(request, "user", None)
    return {"membership": access.active_membership(user) if user is not None else None}
