from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db import models

from . import access
from .auth import user_for_request


class MembershipBackend(ModelBackend):
    """Django's password backend, loading the session's user with its membership and
    personal-grant flags in one query (``auth.user_for_request``, as the token door does), and
    answering object permissions through the access engine (grants with reasons and
    expiry), so ``user.has_perm(perm, obj)`` and ``access.can`` never disagree."""

    def get_user(self, user_id: Any) -> Any:
        # Loaded as every door loads its user (``auth.user_for_request``), so a session
        # and an API token are scoped alike.
        user = user_for_request(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        if obj is None:
            # Django's own model permissions (the admin's) are not capabilities.
            return super().has_perm(user_obj, perm) or (
                perm in access.capabilities() and access.user_may(user_obj, perm)
            )
        if isinstance(obj, models.Model):
            try:
                access.registration_for(type(obj))
            except Exception:
                return False
            return access.can(user_obj, perm, obj)
        return False
