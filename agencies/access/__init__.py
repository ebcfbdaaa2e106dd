"""The access engine: role capabilities x object grants.

Two layers, and both must allow (DESIGN.md, "The access model"):

1. **Capability** — what a role may ever hold, declared as data in each app's
   ``permissions.py`` (``CAPABILITIES = {"app.codename": {roles...}}``).
2. **Grant** — which records: rows in a registered model's direct foreign-key grant
   tables, to the user's agency group or to the user, each with a reason and an
   optional expiry.

Nothing here is cached across requests, so a change of membership, role or grant
applies on the very next request. Scoping is one SQL query: two subqueries over the grant
tables.

This package is the engine's one door: callers use ``from agencies import access`` and
the names below, never its modules. ``registry`` (the models under the engine),
``capability`` (layer 1 and memberships), ``permission_rows`` (permission ids, grants in
force), ``scoping`` (both layers, lists and single checks), ``lookup`` (one record from a
request, 404 when hidden), ``grants`` (layer 2, granting and revoking) and ``explaining``
(who may, and why).
"""

from .capability import (
    active_membership,
    capabilities,
    declared,
    is_superuser,
    require_membership,
    role_may,
    user_may,
)
from .explaining import Decision, GrantInfo, capability_matrix_markdown, explain, grants_on
from .grants import grant, revoke, revoke_for_reason
from .lookup import get_visible_or_400, get_visible_or_404, refuse
from .permission_rows import permission_id
from .registry import Registration, register, registration_for, registrations
from .scoping import (
    PERSONAL_GRANTS,
    Granted,
    ScopedQuerySet,
    agency_can,
    can,
    granted,
    perms_for,
    personal_grant_annotations,
    remember_personal_grants,
    scope,
    visible,
)

__all__ = [
    "PERSONAL_GRANTS",
    "Decision",
    "GrantInfo",
    "Granted",
    "Registration",
    "ScopedQuerySet",
    "active_membership",
    "agency_can",
    "can",
    "capabilities",
    "capability_matrix_markdown",
    "declared",
    "explain",
    "get_visible_or_400",
    "get_visible_or_404",
    "grant",
    "granted",
    "grants_on",
    "is_superuser",
    "permission_id",
    "perms_for",
    "personal_grant_annotations",
    "refuse",
    "register",
    "registration_for",
    "registrations",
    "remember_personal_grants",
    "require_membership",
    "revoke",
    "revoke_for_reason",
    "role_may",
    "scope",
    "user_may",
    "visible",
]
