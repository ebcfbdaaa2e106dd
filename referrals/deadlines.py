"""What is due soon, and what is overdue, for an agency: referral answers and NRM clocks."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from agencies import access
from casework.models import Case
from casework.permissions import VIEW_CASE

from .models import NRMReferral, Referral
from .permissions import ANSWER_REFERRAL, VIEW_NRM

SOON = datetime.timedelta(days=7)
# Deadlines passed longer ago than this are history, not work.
STALE = datetime.timedelta(days=30)


@dataclass(frozen=True)
class Deadline:
    # referral_response, or nrm_ and the clock's kind (``NRMReferral.clocks``)
    kind: str
    label: str
    due: datetime.datetime
    case_id: int
    case_reference: str
    url: str
    overdue: bool


def deadlines_for(user: Any, *, now: datetime.datetime | None = None) -> list[Deadline]:
    """Deadlines of the user's agency: referrals it must answer, and the NRM clocks of its
    NRM referrals on cases the user can see. Overdue first, then soonest."""
    membership = access.active_membership(user)
    if membership is None:
        return []
    now = now or timezone.now()
    horizon = now + SOON
    oldest = now - STALE
    found: list[Deadline] = []

    if access.role_may(membership.role, ANSWER_REFERRAL):
        for referral in (
            Referral.objects.waiting()
            .filter(to_agency_id=membership.agency_id, respond_by__lte=horizon)
            .select_related("case")
        ):
            found.append(
                Deadline(
                    "referral_response",
                    f"Answer a {referral.get_urgency_display().lower()} "
                    f"{referral.get_kind_display().lower()} referral",
                    referral.respond_by,
                    referral.case_id,
                    referral.case.reference,
                    f"/referrals/{referral.pk}/",
                    referral.respond_by < now,
                )
            )

    if access.role_may(membership.role, VIEW_NRM):
        # The NRM clocks of the referrals the agency made, and of those on cases it leads
        # now (after a lead transfer the new lead keeps them).
        visible = Case.objects.visible_to(user, VIEW_CASE)
        mine = Q(agency_id=membership.agency_id) | Q(case__lead_agency_id=membership.agency_id)
        for nrm in (
            NRMReferral.objects.filter(mine, case__in=visible, withdrawn_at__isnull=True)
            .select_related("case", "agency")
            .prefetch_related("reconsiderations")
        ):
            url = reverse("referrals:case_nrm", args=[nrm.case_id])
            for kind, label, due in nrm.clocks():
                if oldest <= due <= horizon:
                    found.append(
                        Deadline(
                            f"nrm_{kind}",
                            str(label),
                            due,
                            nrm.case_id,
                            nrm.case.reference,
                            url,
                            due < now,
                        )
                    )
    return sorted(found, key=lambda d: (not d.overdue, d.due))
