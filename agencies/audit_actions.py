"""The audit actions of agencies, their members and the grants of access (see
``audit.audit_actions`` for the convention)."""

from __future__ import annotations

import enum


@enum.unique
class AgencyAction(enum.StrEnum):
    CREATED = "agency.created"
    MEMBERSHIP_CREATED = "membership.created"
    MEMBERSHIP_ROLE_CHANGED = "membership.role_changed"
    MEMBERSHIP_DEACTIVATED = "membership.deactivated"
    MEMBERSHIP_REACTIVATED = "membership.reactivated"
    GRANT_CREATED = "grant.created"
    GRANT_REVOKED = "grant.revoked"
