"""Lead transfers: the lead agency proposes another agency, which accepts or declines.

When the lead moves, so do the grants (the old lead keeps its history) and the old lead's
open case tasks. A proposal whose agencies no longer share a partnership in force is ended
by beat. Callers have fetched the case as for every case write (``casework.services``).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies import access
from agencies.models import NOT_A_CURRENT_PARTNER, Agency, Partnership, User, partnered_now
from audit.record import record
from core.errors import IllegalTransition
from notifications.services import notify_agency

from .audit_actions import CaseAction
from .case_tasks import _tasks_follow_lead
from .models import Case, LeadAssignment, LeadTransfer, TransferStatus
from .permissions import (
    ACCEPT_LEAD_TRANSFER,
    FORMER_LEAD_PERMISSIONS,
    LEAD_PERMISSIONS,
    MANAGE_CASE,
    VIEW_CASE,
)
from .services import _require


def transfer_propose(*, actor: User, case: Case, to_agency: Agency, reason: str) -> LeadTransfer:
    """The lead agency proposes that another agency lead the case: an active agency that
    shares with it a partnership whose agreement is in force today. Any other agency (or
    none) is the one answer ``NOT_A_CURRENT_PARTNER`` on ``to_agency``."""
    _require(actor, MANAGE_CASE, case, _("Only the lead agency may transfer this case."))
    errors: dict[str, str] = {}
    if to_agency.pk == case.lead_agency_id:
        errors["to_agency"] = _("That agency already leads the case.")
    elif (
        not to_agency.active
        or not Partnership.objects.current().linking(case.lead_agency, to_agency).exists()
    ):
        errors["to_agency"] = str(NOT_A_CURRENT_PARTNER)
    if not reason.strip():
        errors["reason"] = _("Say why the lead should move.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()  # one proposal at a time
        if LeadTransfer.objects.filter(case=case, status=TransferStatus.PROPOSED).exists():
            raise IllegalTransition(_("A transfer of this case is already waiting for an answer."))
        transfer = LeadTransfer.objects.create(
            case=case,
            from_agency=case.lead_agency,
            to_agency=to_agency,
            reason=reason,
            proposed_by=actor,
        )
        # The receiving agency sees the summary so it can decide; nothing personal.
        access.grant(actor=actor, obj=case, perms=[VIEW_CASE], reason=transfer, agency=to_agency)
        record(
            CaseAction.TRANSFER_PROPOSED,
            actor=actor,
            target=case,
            detail={"transfer_id": transfer.pk, "to_agency_id": to_agency.pk},
        )
        notify_agency(
            agency=to_agency,
            roles=["case_manager"],
            kind="transfer.proposed",
            target=case,
            message=_("%(agency)s proposes that your agency lead a case")
            % {"agency": case.lead_agency.name},
            url=f"/cases/{case.pk}/#transfer",
            dedup_key=f"transfer:{transfer.pk}:proposed",
        )
    return transfer


def _require_receiving_manager(actor: User, transfer: LeadTransfer) -> None:
    membership = access.active_membership(actor)
    if (
        membership is None
        or membership.agency_id != transfer.to_agency_id
        or not access.role_may(membership.role, ACCEPT_LEAD_TRANSFER)
    ):
        raise PermissionDenied(_("Only a case manager of the receiving agency may answer."))
    if transfer.status != TransferStatus.PROPOSED:
        raise IllegalTransition(_("This transfer was already answered."))


def transfer_accept(*, actor: User, transfer: LeadTransfer) -> LeadTransfer:
    """The receiving agency takes the lead: the grants move, the old lead keeps history.
    Only while a partnership in force still links the two agencies (409 otherwise)."""
    _require_receiving_manager(actor, transfer)
    case = transfer.case
    if not Partnership.objects.current().linking(transfer.from_agency, transfer.to_agency).exists():
        raise IllegalTransition(
            _(
                "Your agencies no longer share a partnership whose agreement is in force, so "
                "the lead cannot move. Decline the transfer."
            )
        )
    with transaction.atomic():
        now = timezone.now()
        old = LeadAssignment.objects.select_for_update().get(case=case, ended_at__isnull=True)
        old.ended_at = now
        old.save(update_fields=["ended_at"])
        access.revoke_for_reason(actor=actor, reason=old)
        access.revoke_for_reason(actor=actor, reason=transfer)
        access.grant(
            actor=actor, obj=case, perms=FORMER_LEAD_PERMISSIONS, reason=old, agency=old.agency
        )
        new = LeadAssignment.objects.create(case=case, agency=transfer.to_agency, started_at=now)
        access.grant(
            actor=actor, obj=case, perms=LEAD_PERMISSIONS, reason=new, agency=transfer.to_agency
        )
        case.lead_agency = transfer.to_agency
        case.lead_caseworker = actor
        case.save(update_fields=["lead_agency", "lead_caseworker", "updated_at"])
        transfer.status = TransferStatus.ACCEPTED
        transfer.decided_by = actor
        transfer.decided_at = now
        transfer.save(update_fields=["status", "decided_by", "decided_at"])
        _tasks_follow_lead(actor=actor, case=case, old_agency=old.agency, new_agency=new.agency)
        record(
            CaseAction.TRANSFER_ACCEPTED,
            actor=actor,
            target=case,
            detail={"transfer_id": transfer.pk, "from_agency_id": old.agency_id},
        )
    return transfer


def transfer_decline(*, actor: User, transfer: LeadTransfer, note: str = "") -> LeadTransfer:
    _require_receiving_manager(actor, transfer)
    with transaction.atomic():
        transfer.status = TransferStatus.DECLINED
        transfer.decided_by = actor
        transfer.decided_at = timezone.now()
        transfer.decision_note = note
        transfer.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        access.revoke_for_reason(actor=actor, reason=transfer)
        record(
            CaseAction.TRANSFER_DECLINED,
            actor=actor,
            target=transfer.case,
            detail={"transfer_id": transfer.pk},
        )
    return transfer


def transfer_withdraw(*, actor: User, transfer: LeadTransfer) -> LeadTransfer:
    _require(
        actor,
        MANAGE_CASE,
        transfer.case,
        _("Only the lead agency may withdraw a transfer."),
    )
    if transfer.status != TransferStatus.PROPOSED:
        raise IllegalTransition(_("This transfer was already answered."))
    with transaction.atomic():
        transfer.status = TransferStatus.WITHDRAWN
        transfer.decided_by = actor
        transfer.decided_at = timezone.now()
        transfer.save(update_fields=["status", "decided_by", "decided_at"])
        access.revoke_for_reason(actor=actor, reason=transfer)
        record(
            CaseAction.TRANSFER_WITHDRAWN,
            actor=actor,
            target=transfer.case,
            detail={"transfer_id": transfer.pk},
        )
    return transfer


def transfers_end_outside_partnerships(*, now: datetime.datetime | None = None) -> int:
    """Beat (hourly, with the referrals' sweep): a proposed lead transfer whose two agencies
    no longer share a partnership in force (the agreement ended, one left it) can never be
    accepted (``transfer_accept`` refuses), yet the summary it showed the receiving agency
    would stay. Each such transfer is withdrawn by Concord (no one decided: ``decided_by``
    stays empty, the note says why), the grant it justified is revoked (audited), the
    change is audited as ``transfer.ended``, and the case managers of both agencies are
    told, without personal data.

    One query finds them (the lead agency is the proposer: only the lead proposes, and
    only one transfer of a case waits at a time; the lead is asked too, in case it ever is
    not); each is ended in its own transaction under a row lock, after asking again.
    Safe to run twice. Returns how many it ended. Why scoping does not ask this itself:
    ``referrals.services.sharing_end_outside_partnerships``.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    receiver = OuterRef("to_agency_id")
    lapsed = (
        LeadTransfer.objects.filter(status=TransferStatus.PROPOSED)
        .filter(
            ~partnered_now(receiver, OuterRef("from_agency_id"), today)
            | ~partnered_now(receiver, OuterRef("case__lead_agency_id"), today)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(_transfer_end_outside_partnership(pk, now) for pk in list(lapsed))


def _transfer_end_outside_partnership(transfer_id: int, now: datetime.datetime) -> bool:
    with transaction.atomic():
        transfer = (
            LeadTransfer.objects.select_for_update(of=("self",))
            .select_related("case__lead_agency", "from_agency", "to_agency")
            .filter(pk=transfer_id, status=TransferStatus.PROPOSED)
            .first()
        )
        if transfer is None or Partnership.objects.current(timezone.localdate(now)).link_all(
            transfer.to_agency, transfer.from_agency, transfer.case.lead_agency
        ):
            return False  # answered meanwhile, or the agreement is back in force
        transfer.status = TransferStatus.WITHDRAWN
        transfer.decided_at = now
        transfer.decision_note = _(
            "Ended by Concord: the agencies no longer share a partnership whose agreement "
            "is in force."
        )
        transfer.save(update_fields=["status", "decided_at", "decision_note"])
        removed = access.revoke_for_reason(actor=None, reason=transfer)
        record(
            CaseAction.TRANSFER_ENDED,
            actor=None,
            target=transfer.case,
            detail={
                "transfer_id": transfer.pk,
                "to_agency_id": transfer.to_agency_id,
                "grants_removed": removed,
                "reason": "no partnership in force",
            },
        )
        message = _(
            "The proposal that %(to)s lead case %(ref)s has ended: the agencies no longer "
            "share a partnership whose agreement is in force"
        ) % {"to": transfer.to_agency.name, "ref": transfer.case.reference}
        # The receiving agency no longer sees the case: its link is its notifications.
        for agency, url in (
            (transfer.from_agency, f"/cases/{transfer.case_id}/#transfer"),
            (transfer.to_agency, reverse("notifications:inbox")),
        ):
            notify_agency(
                agency=agency,
                roles=["case_manager"],
                kind="transfer.ended",
                target=transfer.case,
                message=message,
                url=url,
                dedup_key=f"transfer:{transfer.pk}:ended",
            )
    return True
