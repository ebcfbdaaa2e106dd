"""What is due soon, and what is overdue, for an agency: referral answers and NRM clocks."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from agencies import access
from casework.models import Case
from casework.permissions import VIEW_CASE

from .models import Decision, NRMReferral, Referral
from .permissions import ANSWER_REFERRAL, VIEW_NRM

SOON = datetime.timedelta(days=7)
# Deadlines passed longer ago than this are history, not work.
STALE = datetime.timedelta(days=30)


@dataclass(frozen=True)
class Deadline:
    # referral_response, nrm_rg_due, nrm_recovery_ends, nrm_reconsideration, nrm_support_contact
    kind: str
    label: str
    due: datetime.datetime
    case_id: int
    case_reference: str
    url: str
    overdue: bool


def _at_end_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59)))


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
        visible = Case.objects.visible_to(user, VIEW_CASE)
        for nrm in NRMReferral.objects.filter(
            agency_id=membership.agency_id, case__in=visible
        ).select_related("case", "agency"):
            url = f"/cases/{nrm.case_id}/"
            clocks: list[tuple[str, str, datetime.datetime]] = []
            if nrm.rg_decision == Decision.PENDING:
                clocks.append(("nrm_rg_due", "Reasonable Grounds decision due", nrm.rg_due))
            if nrm.recovery_period_ends and nrm.cg_decision == Decision.PENDING:
                clocks.append(
                    (
                        "nrm_recovery_ends",
                        "Recovery period ends",
                        _at_end_of(nrm.recovery_period_ends),
                    )
                )
            if nrm.reconsideration_deadline:
                clocks.append(
                    (
                        "nrm_reconsideration",
                        "Last day to ask for reconsideration",
                        _at_end_of(nrm.reconsideration_deadline),
                    )
                )
            if nrm.support_contact_due and nrm.support_contacted_at is None:
                clocks.append(
                    (
                        "nrm_support_contact",
                        "Support provider's first contact due",
                        nrm.support_contact_due,
                    )
                )
            for kind, label, due in clocks:
                if oldest <= due <= horizon:
                    found.append(
                        Deadline(kind, label, due, nrm.case_id, nrm.case.reference, url, due < now)
                    )
    return sorted(found, key=lambda d: (not d.overdue, d.due))
