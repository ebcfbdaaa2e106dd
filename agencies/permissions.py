"""Capabilities of the agencies app: which roles may ever hold which permission."""

from .models import Role

MANAGE_AGENCY_USERS = "agencies.manage_agency_users"

CAPABILITIES: dict[str, frozenset[str]] = {
    MANAGE_AGENCY_USERS: frozenset({Role.AGENCY_ADMIN}),
}
