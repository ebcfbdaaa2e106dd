"""Layer 1, capability: what a role may ever hold, and the membership that gives a user a
role. Declared as data in each app's ``permissions.py``."""

from __future__ import annotations

import functools
import importlib
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.utils.translation import gettext as _

from ..models import Membership, Role


@functools.cache
def capabilities() -> dict[str, frozenset[str]]:
    """Every declared capability: permission name → roles that may ever hold it."""
    declared: dict[str, frozenset[str]] = {}
    for app_config in apps.get_app_configs():
        try:
            module = importlib.import_module(f"{app_config.name}.permissions")
        except ModuleNotFoundError as error:
            if error.name != f"{app_config.name}.permissions":
                raise
            continue
        for perm, roles in getattr(module, "CAPABILITIES", {}).items():
            unknown = set(roles) - set(Role.values)
            if unknown:
                raise ImproperlyConfigured(f"{perm}: unknown roles {sorted(unknown)}")
            if perm in declared:
                raise ImproperlyConfigured(f"{perm} is declared twice")
            declared[perm] = frozenset(roles)
    return declared


def declared(perm: str) -> frozenset[str]:
    """The roles that may ever hold ``perm``; a name no app declared raises.

    A typo in a permission name must fail loudly in the first test that reaches it, not
    deny quietly in production: use the constants of each app's
    ``permissions.py`` (``casework.permissions.VIEW_CASE``), never string copies.
    """
    try:
        return capabilities()[perm]
    except KeyError:
        raise ImproperlyConfigured(
            f"{perm!r} is not a declared permission: declare it in its app's permissions.py "
            "or use that module's constant."
        ) from None


def role_may(role: str | None, perm: str) -> bool:
    """Layer 1 alone: may this role ever hold ``perm``? An undeclared name raises."""
    roles = declared(perm)
    return role is not None and role in roles


def is_superuser(user: Any) -> bool:
    """An active, signed-in superuser: unscoped everywhere (the admin's people)."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_superuser)


def active_membership(user: Any) -> Membership | None:
    """The membership that lets this user act now, or None (inactive user or agency)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    membership: Membership | None = getattr(user, "membership", None)
    if membership is None or not membership.agency.active:
        return None
    return membership


def require_membership(user: Any) -> Membership:
    """The user's active membership, or PermissionDenied (for services acting as an agency)."""
    membership = active_membership(user)
    if membership is None:
        raise PermissionDenied(_("Only members of an active agency may do this."))
    return membership


def user_may(user: Any, perm: str) -> bool:
    """Role capability for actions not tied to one record (e.g. manage agency users)."""
    membership = active_membership(user)
    return membership is not None and role_may(membership.role, perm)
