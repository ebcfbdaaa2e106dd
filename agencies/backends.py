from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db import models

from . import access


class MembershipBackend(ModelBackend):
    """Django's password backend, loading the membership (and whether the user holds any
    personal grant, see ``access.PERSONAL_GRANTS``) with the user in one query, and
    answering object permissions through the access engine (grants with reasons and
    expiry), so ``user.has_perm(perm, obj)`` and ``access.can`` never disagree."""

    def get_user(self, user_id: Any) -> Any:
        from .models import User

        try:
            user = (
                User._default_manager.select_related("membership__agency")
                .annotate(**access.personal_grant_annotations())
                .get(pk=user_id)
            )
        except User.DoesNotExist:
            return None
        return access.remember_personal_grants(user) if self.user_can_authenticate(user) else None

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
