"""Which agencies' numbers a dashboard may count, resolved from the user and the
dashboard asked for, in the order of the access contract (docs/access.md), the same at
both doors (pages and API):

1. **403** when the user's role may never open this kind of dashboard (``require_role``),
   checked before any id is looked up, so the answer says nothing about what exists.
2. **404** when the partnership or agency does not exist, the id is not even well formed,
   or the user is not part of it: ``access.get_visible_or_404`` through the rules below,
   which audits the attempt on one that exists.

- Partnership dashboard: the partnership's agencies, for a partnership manager whose
  agency is one of them. Ended partnerships stay readable: their history is still theirs.
- Agency dashboard: that agency, for its own case managers and partnership managers, and
  for the partnership manager of any partnership it belongs to.

Which records count is decided in ``measures``: a case (and everything on it) counts for
the agency that leads it now; intelligence for the originating agency; a premises visit
for the agency whose staff made it.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext as _

from agencies import access
from agencies.models import Agency, Partnership, PartnershipQuerySet

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


# --- The rules ------------------------------------------------------------------------

# The capabilities that let a role open some dashboard of each kind (None: any dashboard,
# for the list of dashboards and the exports). A partnership manager opens the agency
# dashboards of their partnerships' agencies with the partnership capability.
_ROLE_MAY_OPEN: dict[str | None, tuple[str, ...]] = {
    PARTNERSHIP: (VIEW_PARTNERSHIP,),
    AGENCY: (VIEW_AGENCY, VIEW_PARTNERSHIP),
    None: (VIEW_AGENCY, VIEW_PARTNERSHIP),
}


def require_role(user: Any, kind: str | None = None) -> None:
    """PermissionDenied (403) unless the user's role may open a dashboard of ``kind``
    (any dashboard for None). Called before any partnership, agency or export is looked
    up: the 403 is the same whether it exists or not."""
    membership = access.active_membership(user)
    role = membership.role if membership is not None else None
    if any(access.role_may(role, perm) for perm in _ROLE_MAY_OPEN[kind]):
        return
    if kind == PARTNERSHIP:
        raise PermissionDenied(_("Partnership dashboards are for partnership managers."))
    raise PermissionDenied(_("Dashboards are for partnership managers and case managers."))


class DashboardPartnerships(PartnershipQuerySet):
    """Partnerships as the dashboards scope them (``access.get_visible_or_404``)."""

    def visible_to(self, user: Any, perm: str) -> DashboardPartnerships:
        """The partnerships of the user's agency, for a role that may hold ``perm``
        (``VIEW_PARTNERSHIP``); ended ones included."""
        membership = access.active_membership(user)
        if membership is None or not access.role_may(membership.role, perm):
            return self.none()
        return self.of_agency(membership.agency)


class DashboardAgencies(models.QuerySet[Agency]):
    """Agencies as the dashboards scope them (``access.get_visible_or_404``)."""

    def visible_to(self, user: Any, perm: str) -> DashboardAgencies:
        """The user's own agency, for a role that may hold ``perm`` (``VIEW_AGENCY``);
        and every agency of their agency's partnerships, for a role that may hold
        ``VIEW_PARTNERSHIP`` (the numbers the partnership dashboard shows with its agency
        filter)."""
        membership = access.active_membership(user)
        if membership is None:
            return self.none()
        rules = []
        if access.role_may(membership.role, perm):
            rules.append(models.Q(pk=membership.agency_id))
        if access.role_may(membership.role, VIEW_PARTNERSHIP):
            partners = Partnership.objects.of_agency(membership.agency).member_ids()
            rules.append(models.Q(pk__in=partners))
        if not rules:
            return self.none()
        return self.filter(functools.reduce(operator.or_, rules))


def partnership_scope(user: Any, partnership_id: Any) -> Scope:
    """The partnership dashboard's scope: PermissionDenied for a role that opens none,
    Http404 (audited when the partnership exists) for one the user is not part of."""
    require_role(user, PARTNERSHIP)
    partnership = access.get_visible_or_404(
        DashboardPartnerships(Partnership), user, VIEW_PARTNERSHIP, pk=partnership_id
    )
    return Scope.of_partnership(partnership)


def agency_scope(user: Any, agency_id: Any) -> Scope:
    """The agency dashboard's scope: PermissionDenied for a role that opens none,
    Http404 (audited when the agency exists) for one the user may not open."""
    require_role(user, AGENCY)
    agency = access.get_visible_or_404(DashboardAgencies(Agency), user, VIEW_AGENCY, pk=agency_id)
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
