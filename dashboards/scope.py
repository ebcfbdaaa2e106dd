"""Which agencies' numbers a dashboard may count, resolved from the user and the
dashboard asked for. Anything the user may not open answers 404, and the attempt on an
existing partnership or agency is audited (as ``access.get_visible_or_404`` does).

- Partnership dashboard: the partnership's agencies, for a partnership manager whose
  agency is one of them. Ended partnerships stay readable: their history is still theirs.
- Agency dashboard: that agency, for its own case managers and partnership managers, and
  for the partnership manager of any partnership it belongs to.

Which records count is decided in ``measures``: a case (and everything on it) counts for
the agency that leads it now; intelligence for the originating agency; a premises visit
for the agency whose staff made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404

from agencies import access
from agencies.models import Agency, Partnership
from audit import actions
from audit.record import record

from .permissions import VIEW_AGENCY, VIEW_PARTNERSHIP
from .tables import ScopeInfo

PARTNERSHIP = "partnership"
AGENCY = "agency"


@dataclass(frozen=True)
class AgencyChoice:
    """An agency of the scope, for the agency filter (its name is no person's)."""

    id: int
    name: str
    kind: str


@dataclass(frozen=True)
class Scope:
    """A dashboard the user may open: its kind, id and name, and the agencies it counts."""

    kind: str  # PARTNERSHIP or AGENCY
    id: int
    name: str
    agencies: tuple[AgencyChoice, ...]

    @property
    def agency_ids(self) -> tuple[int, ...]:
        return tuple(agency.id for agency in self.agencies)

    def info(self) -> ScopeInfo:
        return ScopeInfo(kind=self.kind, id=self.id, name=self.name)

    @classmethod
    def of_partnership(cls, partnership: Partnership) -> Scope:
        """The partnership's scope, unchecked: for callers that have already decided (the
        benchmark, tests). Views use ``partnership_scope``."""
        agencies = tuple(
            AgencyChoice(*row)
            for row in partnership.agencies.order_by("name").values_list("id", "name", "kind")
        )
        return cls(PARTNERSHIP, partnership.pk, partnership.name, agencies)

    @classmethod
    def of_agency(cls, agency: Agency) -> Scope:
        return cls(
            AGENCY, agency.pk, agency.name, (AgencyChoice(agency.pk, agency.name, agency.kind),)
        )


def _refuse(user: Any, target: Any, perm: str) -> Http404:
    actor = user if getattr(user, "is_authenticated", False) else None
    record(actions.ACCESS_DENIED, actor=actor, target=target, detail={"permission": perm})
    return Http404()


def partnership_scope(user: Any, partnership_id: Any) -> Scope:
    """The partnership dashboard's scope, or Http404."""
    try:
        partnership = Partnership.objects.get(pk=int(partnership_id))
    except (Partnership.DoesNotExist, TypeError, ValueError):
        raise Http404 from None
    membership = access.active_membership(user)
    if membership is None or not access.role_may(membership.role, VIEW_PARTNERSHIP):
        raise _refuse(user, partnership, VIEW_PARTNERSHIP)
    scope = Scope.of_partnership(partnership)
    if membership.agency_id not in scope.agency_ids:
        raise _refuse(user, partnership, VIEW_PARTNERSHIP)
    return scope


def agency_scope(user: Any, agency_id: Any) -> Scope:
    """The agency dashboard's scope, or Http404."""
    try:
        agency = Agency.objects.get(pk=int(agency_id))
    except (Agency.DoesNotExist, TypeError, ValueError):
        raise Http404 from None
    membership = access.active_membership(user)
    if membership is None:
        raise _refuse(user, agency, VIEW_AGENCY)
    own = membership.agency_id == agency.pk and access.role_may(membership.role, VIEW_AGENCY)
    partner = (
        not own
        and access.role_may(membership.role, VIEW_PARTNERSHIP)
        and Partnership.objects.filter(agencies=agency)
        .filter(agencies=membership.agency_id)
        .exists()
    )
    if not (own or partner):
        raise _refuse(user, agency, VIEW_AGENCY)
    return Scope.of_agency(agency)


def dashboards_for(user: Any) -> list[ScopeInfo]:
    """The dashboards ``user`` may open from a menu: each partnership of their agency (for
    a partnership manager), then their own agency's. Others are reached from there."""
    membership = access.active_membership(user)
    if membership is None:
        return []
    found: list[ScopeInfo] = []
    if access.role_may(membership.role, VIEW_PARTNERSHIP):
        found.extend(
            ScopeInfo(PARTNERSHIP, pk, name)
            for pk, name in Partnership.objects.of_agency(membership.agency)
            .order_by("name")
            .values_list("pk", "name")
        )
    if access.role_may(membership.role, VIEW_AGENCY):
        found.append(ScopeInfo(AGENCY, membership.agency.pk, membership.agency.name))
    return found
