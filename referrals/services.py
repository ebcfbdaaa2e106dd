"""Writes of inter-agency referrals: sending, the receiving agency's answers, withdrawal,
the overdue and expiry sweeps, and the end of sharing outside partnerships. Each checks
its rule, changes state, moves grants through the access engine, audits, and tells the
people who must act (notifications outbox). The National Referral Mechanism's writes
are in ``referrals.nrm_services``."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies import access
from agencies.models import (
    NOT_A_CURRENT_PARTNER,
    Agency,
    AgencyKind,
    Partnership,
    User,
    partnered_now,
)
from audit.record import record
from casework.models import Case, Consent, ConsentScope, JusticeOutcome
from casework.permissions import (
    CHANGE_CASE,
    RECORD_JUSTICE_OUTCOME,
    VIEW_CASE,
    VIEW_IDENTITY,
    VIEW_LOCATION,
    VIEW_NEEDS,
)
from core.errors import IllegalTransition
from notifications.services import notify, notify_agency

from .audit_actions import ReferralAction
from .models import Referral, ReferralKind, ReferralStatus, Urgency, respond_by_for
from .permissions import ADD_REFERRAL, ANSWER_REFERRAL, CARE

# What an accepted referral lets the receiving agency see (DESIGN.md): summary and needs
# always, location for accommodation only, never documents or evidence. Identity only
# with a consent naming the agency (granted with that consent as its reason).
BASE_PERMISSIONS = (VIEW_CASE, VIEW_NEEDS)
KIND_PERMISSIONS: dict[str, tuple[str, ...]] = {
    ReferralKind.ACCOMMODATION: (VIEW_LOCATION,),
}
IDENTITY_PERMISSION = VIEW_IDENTITY
ANSWERING_ROLES = CARE | {"officer", "prosecutor"}

# Where a kind of referral may go.
KIND_AGENCIES: dict[str, frozenset[str]] = {
    ReferralKind.POLICE_CRIME_REPORT: frozenset({AgencyKind.POLICE}),
    ReferralKind.PROSECUTION_FILE: frozenset({AgencyKind.PROSECUTION}),
}

# The audit action of the receiving agency's answer, by the status it moves the referral to.
ANSWER_ACTION: dict[str, ReferralAction] = {
    ReferralStatus.ACCEPTED: ReferralAction.ACCEPTED,
    ReferralStatus.DECLINED: ReferralAction.DECLINED,
    ReferralStatus.COMPLETED: ReferralAction.COMPLETED,
}


def _url(referral: Referral) -> str:
    return reverse("referrals:referral_detail", args=[referral.pk])


def identity_basis(case: Case, agency: Agency) -> Consent | None:
    """The active consent (or a child's safeguarding basis) to share identity with ``agency``."""
    return (
        Consent.objects.active()
        .filter(case=case, scope=ConsentScope.SHARE_IDENTITY, agency=agency)
        .first()
    )


# --- Sending ---------------------------------------------------------------------------


def may_ever_refer(user: User) -> bool:
    """Layer 1 of sending a referral, asked before any id in the request is looked up:
    care roles refer the cases their agency leads; officers and prosecutors send a file
    to prosecutors carrying the outcome their agency recorded."""
    return access.user_may(user, ADD_REFERRAL) or access.user_may(user, RECORD_JUSTICE_OUTCOME)


def may_share_case(case: Case, sender: Agency, receiver: Agency) -> bool:
    """May ``sender`` share ``case`` with ``receiver`` now? Only if ``receiver`` shares a
    partnership whose information-sharing agreement is in force today with the sender
    *and* with the case's lead agency (and its review): the only way a case
    crosses from one agency to another by referral. The second pair matters when the
    sender is not the lead (a file to prosecutors sent by the police): otherwise the case
    would leave its lead's agreements through a third agency's."""
    return Partnership.objects.current().link_all(receiver, sender, case.lead_agency)


def referral_send(
    *,
    actor: User,
    case: Case,
    to_agency: Agency,
    kind: str,
    reason: str,
    urgency: str = Urgency.ROUTINE,
    share_identity: bool = False,
    justice_outcome: JusticeOutcome | None = None,
) -> Referral:
    """Refer a case to another agency's inbox. Nothing is granted until it accepts.

    A file to prosecutors carries a justice outcome recorded on the case; the lead agency
    sends it, or the officer's or prosecutor's agency that recorded the outcome.

    A referral acts for the sender's agency and leads to a lasting grant to another, so
    the sender must reach the case through its *agency's* grants (``access.agency_can``):
    a personal grant (a 60-minute break-glass, an approved evidence request) lets one
    person read for a while, and is never the basis of a referral (403).

    The receiving agency must be active and share a partnership whose agreement is in
    force today with the sender and with the case's lead agency (``may_share_case``);
    otherwise the one answer ``NOT_A_CURRENT_PARTNER`` on ``to_agency``, the same
    whichever it is.
    """
    membership = access.require_membership(actor)
    files_own_outcome = (
        kind == ReferralKind.PROSECUTION_FILE
        and justice_outcome is not None
        and justice_outcome.recorded_by_agency_id == membership.agency_id
        and access.user_may(actor, RECORD_JUSTICE_OUTCOME)
        and access.agency_can(actor, VIEW_CASE, case)
    )
    if not files_own_outcome:
        if not access.user_may(actor, ADD_REFERRAL):
            if access.user_may(actor, RECORD_JUSTICE_OUTCOME):
                raise PermissionDenied(
                    _(
                        "Officers and prosecutors send only a file to prosecutors carrying "
                        "their agency's outcome, on a case their agency works on (a "
                        "break-glass or an evidence request is not enough)."
                    )
                )
            raise PermissionDenied(_("Only caseworkers and case managers make referrals."))
        if not access.agency_can(actor, CHANGE_CASE, case):
            raise PermissionDenied(_("Only the lead agency refers this case."))
    errors: dict[str, str] = {}
    if kind == ReferralKind.PROSECUTION_FILE:
        if justice_outcome is None or justice_outcome.case_id != case.pk:
            errors["justice_outcome"] = _(
                "A file to prosecutors carries a justice outcome recorded on this case: "
                "record the outcome first."
            )
    elif justice_outcome is not None:
        errors["justice_outcome"] = _("Only a file to prosecutors carries a justice outcome.")
    if to_agency.pk == membership.agency_id:
        errors["to_agency"] = _("Refer to another agency, not your own.")
    elif not to_agency.active or not may_share_case(case, membership.agency, to_agency):
        errors["to_agency"] = str(NOT_A_CURRENT_PARTNER)
    elif kind in KIND_AGENCIES and to_agency.kind not in KIND_AGENCIES[kind]:
        errors["to_agency"] = _("A %(kind)s goes to a %(agency)s agency.") % {
            "kind": ReferralKind(kind).label.lower(),
            "agency": " or ".join(
                sorted(str(AgencyKind(k).label).lower() for k in KIND_AGENCIES[kind])
            ),
        }
    if not reason.strip():
        errors["reason"] = _("Say what the person needs from this agency.")
    basis = (
        identity_basis(case, to_agency) if share_identity and "to_agency" not in errors else None
    )
    if share_identity and basis is None and "to_agency" not in errors:
        errors["share_identity"] = _(
            "Sharing identity with %(agency)s needs the person's consent naming it "
            "(for a child, a safeguarding basis naming it). "
            "Record it first, or refer without identity."
        ) % {"agency": to_agency.name}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        now = timezone.now()
        referral = Referral(
            case=case,
            from_agency=membership.agency,
            to_agency=to_agency,
            kind=kind,
            urgency=urgency,
            reason=reason,
            share_identity=share_identity,
            identity_basis=basis,
            justice_outcome=justice_outcome,
            sent_by=actor,
            sent_at=now,
            respond_by=respond_by_for(urgency, now, to_agency.country, to_agency.subdivision),
        )
        referral.full_clean()
        referral.save()
        record(
            ReferralAction.SENT,
            actor=actor,
            target=referral,
            detail={
                "to_agency_id": to_agency.pk,
                "kind": kind,
                "urgency": urgency,
                "share_identity": share_identity,
                "justice_outcome_id": justice_outcome.pk if justice_outcome else None,
            },
        )
        if justice_outcome is not None and justice_outcome.referred_to_prosecutor_on is None:
            justice_outcome.referred_to_prosecutor_on = timezone.localdate(now)
            justice_outcome.save(update_fields=["referred_to_prosecutor_on"])
        notify_agency(
            agency=to_agency,
            roles=ANSWERING_ROLES,
            kind="referral.received",
            target=referral,
            message=_("A new %(urgency)s referral is waiting for %(agency)s")
            % {"urgency": referral.get_urgency_display().lower(), "agency": to_agency.name},
            url=_url(referral),
            dedup_key=f"referral:{referral.pk}:received",
        )
    return referral


# --- The receiving agency's answers, and withdrawal ------------------------------------


def _require_receiver(actor: User, referral: Referral) -> None:
    membership = access.require_membership(actor)
    if membership.agency_id != referral.to_agency_id or not access.role_may(
        membership.role, ANSWER_REFERRAL
    ):
        raise PermissionDenied(_("Only the receiving agency answers a referral."))


def _tell_sender(referral: Referral, event: str, message: str) -> None:
    notify(
        recipients=[referral.sent_by],
        kind=f"referral.{event}",
        target=referral,
        message=message,
        url=_url(referral),
        dedup_key=f"referral:{referral.pk}:{event}",
    )


def _move(referral: Referral, allowed_from: str, to: str) -> None:
    if referral.status != allowed_from:
        raise IllegalTransition(
            _("A referral that is %(now)s cannot become %(to)s.")
            % {"now": referral.get_status_display().lower(), "to": ReferralStatus(to).label.lower()}
        )


def _transition(
    *,
    actor: User,
    referral: Referral,
    from_status: ReferralStatus,
    to: ReferralStatus,
    told: str,
    closes: bool = False,
    errors: dict[str, str] | None = None,
    fields: dict[str, Any] | None = None,
    then: Callable[[Referral], dict[str, Any] | None] | None = None,
) -> Referral:
    """What the receiving agency's answers share: only its answering roles answer (403);
    ``errors`` in the answer itself are raised after that, so a caller who may not answer
    learns nothing from validation; under a row lock, only a referral in ``from_status``
    moves (409). The move records who answered and when, or, when it ``closes`` the
    referral, when it closed; ``then`` does the answer's own work (it may still refuse:
    the transaction rolls back) and returns the audit detail of its ``ANSWER_ACTION``; the
    sender is told ``told``, formatted with the receiving agency's name."""
    _require_receiver(actor, referral)
    if errors:
        raise ValidationError(errors)
    fields = fields or {}
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("case__lead_agency", "from_agency", "to_agency", "sent_by")
            .get(pk=referral.pk)
        )
        _move(referral, from_status, to)
        now = timezone.now()
        referral.status = to
        if closes:
            referral.closed_at = now
            stamped = ["closed_at"]
        else:
            referral.answered_by = actor
            referral.answered_at = now
            stamped = ["answered_by", "answered_at"]
        for name, value in fields.items():
            setattr(referral, name, value)
        referral.save(update_fields=["status", *stamped, *fields])
        detail = then(referral) if then is not None else None
        event = str(to)
        record(ANSWER_ACTION[to], actor=actor, target=referral, detail=detail)
        _tell_sender(referral, event, told % {"agency": referral.to_agency.name})
    return referral


def referral_accept(*, actor: User, referral: Referral) -> Referral:
    """The receiving agency takes the referral on, and gets what its kind needs.

    Only while the receiver shares a partnership in force with the sender and with the
    case's lead agency (``may_share_case``, asked again now: a referral sent inside a
    partnership whose agreement has since ended or been left, or sent before the lead's
    agreements were checked, cannot open the case). Otherwise 409; it may still be
    declined or withdrawn, and expires unanswered otherwise.
    """

    def open_the_case(referral: Referral) -> dict[str, Any]:
        if not may_share_case(referral.case, referral.from_agency, referral.to_agency):
            raise IllegalTransition(_no_partnership(referral, _("accepted")))
        perms = BASE_PERMISSIONS + KIND_PERMISSIONS.get(referral.kind, ())
        access.grant(
            actor=actor, obj=referral.case, perms=perms, reason=referral, agency=referral.to_agency
        )
        if referral.share_identity:
            basis = referral.identity_basis
            if basis is None or basis.withdrawn_at is not None:
                raise ValidationError(
                    {
                        "share_identity": _(
                            "The consent to share identity was withdrawn; ask for a new referral."
                        )
                    }
                )
            access.grant(
                actor=actor,
                obj=referral.case,
                perms=[IDENTITY_PERMISSION],
                reason=basis,
                agency=referral.to_agency,
            )
        return {"permissions": list(perms)}

    return _transition(
        actor=actor,
        referral=referral,
        from_status=ReferralStatus.SENT,
        to=ReferralStatus.ACCEPTED,
        then=open_the_case,
        told=_("%(agency)s accepted your referral"),
    )


def _no_partnership(referral: Referral, done: str) -> str:
    # Names the two agencies of the referral; the lead only as "the agency that leads the
    # case" (the receiver may not know which one it is).
    names = {"from": referral.from_agency.name, "to": referral.to_agency.name, "done": done}
    if referral.case.lead_agency_id in (referral.from_agency_id, referral.to_agency_id):
        return (
            _(
                "%(from)s and %(to)s no longer share a partnership whose agreement is in "
                "force, so this referral cannot be %(done)s. Decline it, or ask them to "
                "refer again once an agreement is in force."
            )
            % names
        )
    return (
        _(
            "%(from)s, %(to)s and the agency that leads the case no longer share a "
            "partnership whose agreement is in force, so this referral cannot be %(done)s. "
            "Decline it, or ask them to refer again once an agreement is in force."
        )
        % names
    )


def referral_decline(*, actor: User, referral: Referral, reason: str) -> Referral:
    """The receiving agency says no, and why, so the referrer can find another way."""
    errors: dict[str, str] = {}
    if not reason.strip():
        errors["reason"] = _("Say why you decline, so the referrer can find another way.")
    return _transition(
        actor=actor,
        referral=referral,
        from_status=ReferralStatus.SENT,
        to=ReferralStatus.DECLINED,
        errors=errors,
        fields={"decline_reason": reason},
        told=_("%(agency)s declined your referral"),
    )


def referral_withdraw(*, actor: User, referral: Referral) -> Referral:
    """The referring agency takes back a referral not yet answered."""
    membership = access.require_membership(actor)
    if membership.agency_id != referral.from_agency_id or not (
        access.role_may(membership.role, ADD_REFERRAL)
        or actor.pk == referral.sent_by_id  # an officer's own file to prosecutors
    ):
        raise PermissionDenied(_("Only the referring agency withdraws a referral."))
    with transaction.atomic():
        referral = Referral.objects.select_for_update().get(pk=referral.pk)
        _move(referral, ReferralStatus.SENT, ReferralStatus.WITHDRAWN)
        referral.status = ReferralStatus.WITHDRAWN
        referral.closed_at = timezone.now()
        referral.save(update_fields=["status", "closed_at"])
        record(ReferralAction.WITHDRAWN, actor=actor, target=referral)
    return referral


def referral_complete(*, actor: User, referral: Referral) -> Referral:
    """The receiving agency's part is done: it keeps read-only sight of the summary only,
    and only while it shares a partnership in force with the sender and the case's lead
    agency (``may_share_case``).

    Outside one, completing still succeeds but grants nothing: it is the receiver saying
    its work is over, and it only ever takes access away (everything the acceptance
    granted goes at once, rather than at the next beat sweep, which refusing would leave
    standing). What is kept is in the audit row (``summary_kept``).
    """

    def keep_the_summary(referral: Referral) -> dict[str, Any]:
        _revoke_what_acceptance_granted(actor, referral)
        summary_kept = may_share_case(referral.case, referral.from_agency, referral.to_agency)
        if summary_kept:
            access.grant(
                actor=actor,
                obj=referral.case,
                perms=[VIEW_CASE],
                reason=referral,
                agency=referral.to_agency,
            )
        return {"summary_kept": summary_kept}

    return _transition(
        actor=actor,
        referral=referral,
        from_status=ReferralStatus.ACCEPTED,
        to=ReferralStatus.COMPLETED,
        closes=True,
        then=keep_the_summary,
        told=_("%(agency)s completed your referral"),
    )


def _revoke_what_acceptance_granted(actor: User | None, referral: Referral) -> int:
    """Every grant the referral justifies, and the identity granted with the consent it
    carried (that consent may stay for other uses: only this agency's identity grant on
    this case goes, and not while another accepted referral of the case to the same
    agency carries the same consent). Returns how many grant rows went."""
    removed = access.revoke_for_reason(actor=actor, reason=referral)
    identity_still_carried = (
        Referral.objects.filter(
            case_id=referral.case_id,
            to_agency_id=referral.to_agency_id,
            identity_basis_id=referral.identity_basis_id,
            share_identity=True,
            status=ReferralStatus.ACCEPTED,
        )
        .exclude(pk=referral.pk)
        .exists()
    )
    if (
        referral.share_identity
        and referral.identity_basis_id is not None
        and not identity_still_carried
    ):
        removed += access.revoke(
            actor=actor,
            obj=referral.case,
            agency=referral.to_agency,
            perms=[IDENTITY_PERMISSION],
            reason=referral.identity_basis,
        )
    return removed


# --- Sweeps (beat) ---------------------------------------------------------------------


def referrals_flag_overdue(*, now: datetime.datetime | None = None) -> int:
    """Tell both agencies once when a referral passes its response time. Safe to run twice:
    the conditional UPDATE claims each referral once."""
    now = now or timezone.now()
    told = 0
    for referral in (
        Referral.objects.overdue(now)
        .filter(overdue_notified_at__isnull=True)
        .select_related("to_agency", "sent_by")[:500]
    ):
        with transaction.atomic():
            claimed = Referral.objects.filter(
                pk=referral.pk, overdue_notified_at__isnull=True
            ).update(overdue_notified_at=now)
            if not claimed:
                continue
            notify_agency(
                agency=referral.to_agency,
                roles=ANSWERING_ROLES,
                kind="referral.overdue",
                target=referral,
                message=_("A referral to %(agency)s is past its response time")
                % {"agency": referral.to_agency.name},
                url=_url(referral),
                dedup_key=f"referral:{referral.pk}:overdue",
            )
            _tell_sender(
                referral,
                "overdue",
                _("Your referral to %(agency)s has not been answered in time")
                % {"agency": referral.to_agency.name},
            )
            record(ReferralAction.OVERDUE, actor=None, target=referral)
            told += 1
    return told


def referrals_expire(*, now: datetime.datetime | None = None) -> int:
    """Referrals left unanswered REFERRAL_EXPIRE_DAYS past their deadline expire."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.REFERRAL_EXPIRE_DAYS)
    expired = 0
    for referral in (
        Referral.objects.waiting()
        .filter(respond_by__lt=cutoff)
        .select_related("to_agency", "sent_by")[:500]
    ):
        with transaction.atomic():
            if not Referral.objects.filter(pk=referral.pk, status=ReferralStatus.SENT).update(
                status=ReferralStatus.EXPIRED, closed_at=now
            ):
                continue
            record(ReferralAction.EXPIRED, actor=None, target=referral)
            _tell_sender(
                referral,
                "expired",
                _("Your referral to %(agency)s expired unanswered")
                % {"agency": referral.to_agency.name},
            )
            expired += 1
    return expired


def sharing_end_outside_partnerships(*, now: datetime.datetime | None = None) -> int:
    """Beat (hourly): take back what referrals granted once their agencies no longer share
    a partnership in force (an agreement that ended, an agency that left it).

    Finds, in one query, the accepted and completed referrals whose receiver shares no
    partnership in force with the sender or with the case's lead agency (the rule of
    ``may_share_case``); for each, in its own transaction under a row lock, asks again,
    then revokes every grant the referral justifies (audited by the access engine),
    moves an accepted referral to ``ended`` (a completed one stays completed: its summary
    sight goes), audits ``referral.ended`` and tells both agencies, with a link to the
    referral and no personal data. Pending lead transfers are ended the same way
    (``casework.transfers.transfers_end_outside_partnerships``).

    Safe to run twice: a second run finds no accepted referral and no completed one that
    still grants, and the notifications' dedup keys name the referral. Returns how many
    referrals it ended.

    Scoping does not ask the partnership question itself, so between the end of an
    agreement (midnight; its date is known in advance) and the next run such a grant
    still counts. On purpose: every list and every object check is one subquery over
    the grant tables (a semi-join of 0.7 ms for a user who sees 20,000 cases);
    joining each grant to its reason and the reason's partnerships would put that join
    in every query of every user for a gap this sweep closes within the hour. The writes
    that would widen access (send, accept, complete) ask the question themselves.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    receiver = models.OuterRef("to_agency_id")
    outside = ~partnered_now(receiver, models.OuterRef("from_agency_id"), today) | ~partnered_now(
        receiver, models.OuterRef("case__lead_agency_id"), today
    )
    still_grants = models.Exists(
        access.registration_for(Case).agency_grants.objects.filter(
            reason_type=ContentType.objects.get_for_model(Referral),
            reason_id=models.OuterRef("pk"),
        )
    )
    lapsed = (
        Referral.objects.filter(outside)
        .filter(
            models.Q(status=ReferralStatus.ACCEPTED)
            | models.Q(still_grants, status=ReferralStatus.COMPLETED)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    ended = 0
    for referral_id in list(lapsed):
        if _referral_end_outside_partnership(referral_id, now):
            ended += 1
    return ended


def _referral_end_outside_partnership(referral_id: int, now: datetime.datetime) -> bool:
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("case__lead_agency", "from_agency", "to_agency", "identity_basis")
            .filter(pk=referral_id)
            .first()
        )
        if (
            referral is None
            or referral.status not in (ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED)
            or may_share_case(referral.case, referral.from_agency, referral.to_agency)
        ):
            return False  # gone, answered meanwhile, or the agreement is back in force
        was = referral.status
        removed = _revoke_what_acceptance_granted(None, referral)
        if was == ReferralStatus.COMPLETED and not removed:
            return False  # another run took them back first
        if was == ReferralStatus.ACCEPTED:
            referral.status = ReferralStatus.ENDED
            referral.closed_at = now
            referral.save(update_fields=["status", "closed_at"])
        record(
            ReferralAction.ENDED,
            actor=None,
            target=referral,
            detail={
                "was": was,
                "grants_removed": removed,
                "reason": "no partnership in force",
            },
        )
        message = _(
            "A referral from %(from)s to %(to)s has ended: the agencies no longer share a "
            "partnership whose agreement is in force"
        ) % {"from": referral.from_agency.name, "to": referral.to_agency.name}
        for agency in (referral.from_agency, referral.to_agency):
            notify_agency(
                agency=agency,
                roles=ANSWERING_ROLES,
                kind="referral.ended",
                target=referral,
                message=message,
                url=_url(referral),
                dedup_key=f"referral:{referral.pk}:ended",
            )
    return True
