"""Capabilities of the dashboards app: which roles may ever open which dashboard.

Dashboards show aggregates only, never a person, so they are not reached through object
grants: the capability decides the kind of dashboard, and ``dashboards.scope`` decides
which partnership or agency (membership, not grants):

- ``view_partnership_dashboard``: the partnership manager, for every partnership their
  agency belongs to; with it, the agency dashboard of any agency in those partnerships
  (the same numbers the partnership dashboard shows with its agency filter).
- ``view_agency_dashboard``: the dashboard of the user's own agency, for its case
  managers and partnership managers.

At both doors (pages and API), as the access contract says: a role that may never open
this kind of dashboard answers 403, decided before any id is looked up; a partnership or
agency the user is not part of answers 404, as a record the user may not see does (the
attempt audited when it exists). See ``dashboards.scope``.
"""

from agencies.models import Role

VIEW_PARTNERSHIP = "dashboards.view_partnership_dashboard"
VIEW_AGENCY = "dashboards.view_agency_dashboard"

CAPABILITIES: dict[str, frozenset[str]] = {
    VIEW_PARTNERSHIP: frozenset({Role.PARTNERSHIP_MANAGER}),
    VIEW_AGENCY: frozenset({Role.CASE_MANAGER, Role.PARTNERSHIP_MANAGER}),
}
