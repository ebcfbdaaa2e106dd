"""Capabilities of the agencies app: which roles may ever hold which permission."""

from .models import Role

CAPABILITIES: dict[str, frozenset[str]] = {
    "agencies.manage_agency_users": frozenset({Role.AGENCY_ADMIN}),
}
