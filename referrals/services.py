"""Writes of the referrals app: each checks its rule, changes state, moves grants through
the access engine, audits, and tells the people who must act (notifications outbox)."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agencies import access
from agencies.errors import IllegalTransition
from agencies.models import (
    NOT_A_CURRENT_PARTNER,
    Agency,
    AgencyKind,
    Partnership,
    User,
    partnered_now,
)
from audit.record import record
from casework import services as casework
from casework.models import Case, Consent, ConsentScope, JusticeOutcome
from casework.permissions import (
    CHANGE_CASE,
    RECORD_JUSTICE_OUTCOME,
    VIEW_CASE,
    VIEW_IDENTITY,
    VIEW_LOCATION,
    VIEW_NEEDS,
)
from notifications.services import notify, notify_agency

from . import jurisdictions
from .calendar import due_date
from .models import (
    Decision,
    DutyToNotify,
    NRMDecline,
    NRMReconsideration,
    NRMReferral,
    ReconsiderationOutcome,
    Referral,
    ReferralKind,
    ReferralStatus,
    Requester,
    Stage,
    Urgency,
    respond_by_for,
)
from .permissions import (
    ADD_DUTY_TO_NOTIFY,
    ADD_NRM,
    ADD_REFERRAL,
    ANSWER_REFERRAL,
    CARE,
    CHANGE_NRM,
)

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


def _url(referral: Referral) -> str:
    return reverse("referrals:referral_detail", args=[referral.pk])


def identity_basis(case: Case, agency: Agency) -> Consent | None:
    """The active consent (or a child's safeguarding basis) to share identity with ``agency``."""
    return (
        Consent.objects.active()
        .filter(case=case, scope=ConsentScope.SHARE_IDENTITY, agency=agency)
        .first()
    )


# --- Referrals -------------------------------------------------------------------------


def may_ever_refer(user: User) -> bool:
    """Layer 1 of sending a referral, asked before any id in the request is looked up:
    care roles refer the cases their agency leads; officers and prosecutors send a file
    to prosecutors carrying the outcome their agency recorded."""
    return access.user_may(user, ADD_REFERRAL) or access.user_may(user, RECORD_JUSTICE_OUTCOME)


def may_share_case(case: Case, sender: Agency, receiver: Agency) -> bool:
    """May ``sender`` share ``case`` with ``receiver`` now? Only if ``receiver`` shares a
    partnership whose information-sharing agreement is in force today with the sender
    *and* with the case's lead agency (issue 14, and its review): the only way a case
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
            "referral.sent",
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


def referral_accept(*, actor: User, referral: Referral) -> Referral:
    """The receiving agency takes the referral on, and gets what its kind needs.

    Only while the receiver shares a partnership in force with the sender and with the
    case's lead agency (``may_share_case``, asked again now: a referral sent inside a
    partnership whose agreement has since ended or been left, or sent before the lead's
    agreements were checked, cannot open the case). Otherwise 409; it may still be
    declined or withdrawn, and expires unanswered otherwise.
    """
    _require_receiver(actor, referral)
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("case__lead_agency", "to_agency", "from_agency")
            .get(pk=referral.pk)
        )
        _move(referral, ReferralStatus.SENT, ReferralStatus.ACCEPTED)
        if not may_share_case(referral.case, referral.from_agency, referral.to_agency):
            raise IllegalTransition(_no_partnership(referral, _("accepted")))
        referral.status = ReferralStatus.ACCEPTED
        referral.answered_by = actor
        referral.answered_at = timezone.now()
        referral.save(update_fields=["status", "answered_by", "answered_at"])
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
        record(
            "referral.accepted", actor=actor, target=referral, detail={"permissions": list(perms)}
        )
        _tell_sender(
            referral,
            "accepted",
            _("%(agency)s accepted your referral") % {"agency": referral.to_agency.name},
        )
    return referral


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
    _require_receiver(actor, referral)
    if not reason.strip():
        raise ValidationError(
            {"reason": _("Say why you decline, so the referrer can find another way.")}
        )
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update()
            .select_related("to_agency", "sent_by")
            .get(pk=referral.pk)
        )
        _move(referral, ReferralStatus.SENT, ReferralStatus.DECLINED)
        referral.status = ReferralStatus.DECLINED
        referral.answered_by = actor
        referral.answered_at = timezone.now()
        referral.decline_reason = reason
        referral.save(update_fields=["status", "answered_by", "answered_at", "decline_reason"])
        record("referral.declined", actor=actor, target=referral)
        _tell_sender(
            referral,
            "declined",
            _("%(agency)s declined your referral") % {"agency": referral.to_agency.name},
        )
    return referral


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
        record("referral.withdrawn", actor=actor, target=referral)
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
    _require_receiver(actor, referral)
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("case__lead_agency", "to_agency", "from_agency")
            .get(pk=referral.pk)
        )
        _move(referral, ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED)
        referral.status = ReferralStatus.COMPLETED
        referral.closed_at = timezone.now()
        referral.save(update_fields=["status", "closed_at"])
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
        record(
            "referral.completed",
            actor=actor,
            target=referral,
            detail={"summary_kept": summary_kept},
        )
        _tell_sender(
            referral,
            "completed",
            _("%(agency)s completed your referral") % {"agency": referral.to_agency.name},
        )
    return referral


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
            record("referral.overdue", actor=None, target=referral)
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
            record("referral.expired", actor=None, target=referral)
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
    (``casework.services.transfers_end_outside_partnerships``).

    Safe to run twice: a second run finds no accepted referral and no completed one that
    still grants, and the notifications' dedup keys name the referral. Returns how many
    referrals it ended.

    Scoping does not ask the partnership question itself, so between the end of an
    agreement (midnight; its date is known in advance) and the next run such a grant
    still counts. On purpose: every list and every object check is one subquery over
    the grant tables (issue 5: a semi-join of 0.7 ms for a user who sees 20,000 cases);
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
            "referral.ended",
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


# --- NRM -------------------------------------------------------------------------------


def _require_case_agency(actor: User, case: Case, capability: str) -> Any:
    membership = access.require_membership(actor)
    if not access.role_may(membership.role, capability):
        raise PermissionDenied(_("Your role may not do this."))
    if not access.can(actor, VIEW_CASE, case):
        raise PermissionDenied(_("Your agency does not work on this case."))
    return membership


def require_nrm_changer(actor: User, nrm: NRMReferral) -> None:
    """Only the agency that made the NRM referral, or the case's lead agency now, changes
    the record (``NRMReferral.objects.visible_to(user, CHANGE_NRM)``). Callers have fetched
    ``nrm`` through ``visible_to(user, VIEW_NRM)``, so a refusal here is 403, not 404; the
    doors ask it before reading the request's body, so a refused caller learns nothing
    from validation either."""
    membership = access.require_membership(actor)
    if not access.role_may(membership.role, CHANGE_NRM):
        raise PermissionDenied(_("Your role may not do this."))
    if not NRMReferral.objects.visible_to(actor, CHANGE_NRM).filter(pk=nrm.pk).exists():
        raise PermissionDenied(
            _(
                "Only the agency that made this NRM referral, or the agency that leads the "
                "case, may change it."
            )
        )


def nrm_refer(
    *, actor: User, case: Case, submitted_at: datetime.datetime | None = None
) -> NRMReferral:
    """Record an NRM referral. Only first responders refer; an adult must consent (without
    consent, police and local authorities file a Duty to Notify instead); a child is
    referred without consent."""
    membership = _require_case_agency(actor, case, ADD_NRM)
    if jurisdictions.for_agency(membership.agency) is None:
        raise PermissionDenied(NO_NRM_HERE)
    if not membership.agency.is_first_responder:
        raise PermissionDenied(_("Only designated first-responder agencies make NRM referrals."))
    consent = (
        Consent.objects.active()
        .filter(case=case, scope=ConsentScope.NRM_REFERRAL)
        .order_by("-given_at")
        .first()
    )
    if not case.is_child and consent is None:
        raise ValidationError(
            {
                "consent": _(
                    "An adult must give informed consent to an NRM referral. "
                    "Record it first; without it, "
                    "police and local authorities file a Duty to Notify (MS1) instead."
                )
            }
        )
    if nrm_in_progress(case).exists():
        raise IllegalTransition(
            _(
                "This person's NRM referral is still in progress: a new one can be made once "
                "it is concluded (a Conclusive Grounds decision, or a negative Reasonable "
                "Grounds one that is not being reconsidered) or the person withdraws."
            )
        )
    submitted_at = submitted_at or timezone.now()
    if submitted_at > timezone.now() + datetime.timedelta(minutes=5):
        raise ValidationError({"submitted_at": _("The submission cannot be in the future.")})
    with transaction.atomic():
        nrm = NRMReferral.objects.create(
            case=case,
            agency=membership.agency,
            submitted_by=actor,
            submitted_at=submitted_at,
            consent=consent,
        )
        record("nrm.referred", actor=actor, target=nrm, detail={"child": case.is_child})
    return nrm


def nrm_in_progress(case: Case) -> models.QuerySet[NRMReferral]:
    """The case's NRM referrals still in progress: not withdrawn, no Conclusive Grounds
    decision, and not ended by a negative Reasonable Grounds decision (unless that one is
    being reconsidered). One at a time per person (issue 17, item 11)."""
    reconsidering = NRMReconsideration.objects.filter(
        nrm=models.OuterRef("pk"), outcome=ReconsiderationOutcome.PENDING
    )
    return NRMReferral.objects.filter(
        case=case, withdrawn_at__isnull=True, cg_decision=Decision.PENDING
    ).exclude(models.Q(rg_decision=Decision.NEGATIVE) & ~models.Exists(reconsidering))


NRM_FIELDS = (
    "competent_authority_reference",
    "rg_decision",
    "rg_decided_on",
    "cg_decision",
    "cg_decided_on",
    "support_allocated_at",
    "support_contacted_at",
)


def nrm_update(*, actor: User, nrm: NRMReferral, **fields: Any) -> NRMReferral:
    """Record the competent authority's reference and decisions, and support allocation.
    Only the referring agency or the case's lead agency (``require_nrm_changer``)."""
    require_nrm_changer(actor, nrm)
    _require_not_withdrawn(nrm)
    unknown = set(fields) - set(NRM_FIELDS)
    if unknown:
        raise ValueError(f"not NRM fields: {sorted(unknown)}")
    # Validate the record as it would be, without touching the instance until it passes.
    new = {name: fields.get(name, getattr(nrm, name)) for name in NRM_FIELDS}
    today = timezone.localdate()
    submitted = timezone.localtime(nrm.submitted_at).date()
    errors: dict[str, str] = {}
    for decision, day in (("rg_decision", "rg_decided_on"), ("cg_decision", "cg_decided_on")):
        value, on = new[decision], new[day]
        if value not in Decision.values:
            errors[decision] = _("Choose pending, positive or negative.")
        elif value != Decision.PENDING and on is None:
            errors[day] = _("Give the date of the decision.")
        if on is not None and (on > today or on < submitted):
            errors[day] = _("The date must be between the submission and today.")
    if new["cg_decision"] != Decision.PENDING and new["rg_decision"] != Decision.POSITIVE:
        errors["cg_decision"] = _(
            "A Conclusive Grounds decision follows a positive Reasonable Grounds one."
        )
    earliest_cg = (
        new["rg_decided_on"] + datetime.timedelta(days=nrm.recovery_days)
        if new["rg_decided_on"] is not None
        else None
    )
    if (
        new["cg_decided_on"]
        and earliest_cg
        and new["cg_decided_on"] >= new["rg_decided_on"]
        and new["cg_decided_on"] < earliest_cg
    ):
        errors["cg_decided_on"] = _(
            "A Conclusive Grounds decision comes no earlier than the end of the recovery "
            "period: %(days)s days after the Reasonable Grounds decision, on %(date)s."
        ) % {"days": nrm.recovery_days, "date": date_format(earliest_cg, "j F Y")}
    if (
        new["cg_decided_on"]
        and new["rg_decided_on"]
        and new["cg_decided_on"] < new["rg_decided_on"]
    ):
        errors["cg_decided_on"] = _(
            "The Conclusive Grounds decision cannot come before the Reasonable Grounds one."
        )
    support_consent = nrm.support_consent
    if new["support_allocated_at"] and support_consent is None and not nrm.case.is_child:
        support_consent = (
            Consent.objects.active()
            .filter(case=nrm.case, scope=ConsentScope.NRM_SUPPORT)
            .order_by("-given_at")
            .first()
        )
        if support_consent is None:
            errors["support_allocated_at"] = _(
                "NRM support is for an adult who asked for it: record their consent to NRM "
                "support first."
            )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        for name, value in fields.items():
            setattr(nrm, name, value)
        nrm.support_consent = support_consent
        nrm.save()
        record("nrm.updated", actor=actor, target=nrm, detail={"fields": sorted(fields)})
    return nrm


def _require_not_withdrawn(nrm: NRMReferral) -> None:
    if nrm.is_withdrawn:
        raise IllegalTransition(
            _("The person withdrew from this NRM referral; its record no longer changes.")
        )


def _tell_nrm_agencies(nrm: NRMReferral, kind: str, message: str, dedup_key: str) -> None:
    """The referring agency and, after a lead transfer, the agency that leads the case now
    (where it works under an NRM): both keep the person's NRM clocks. On commit."""
    agencies = {nrm.agency_id: nrm.agency}
    lead = nrm.case.lead_agency
    if lead.pk not in agencies and jurisdictions.for_agency(lead) is not None:
        agencies[lead.pk] = lead
    for agency in agencies.values():
        notify_agency(
            agency=agency,
            roles=NRM_ROLES,
            kind=kind,
            target=nrm,
            message=message,
            url=reverse("referrals:case_nrm", args=[nrm.case_id]),
            dedup_key=f"{dedup_key}:agency:{agency.pk}",
        )


def nrm_withdraw(*, actor: User, nrm: NRMReferral, reason: str = "") -> NRMReferral:
    """The person leaves the NRM: the clocks stop, the agencies keeping them are told, and
    a new referral can be made later. Only while the referral is in progress."""
    require_nrm_changer(actor, nrm)
    _require_not_withdrawn(nrm)
    if not nrm_in_progress(nrm.case).filter(pk=nrm.pk).exists():
        raise IllegalTransition(_("This NRM referral is concluded: there is nothing to withdraw."))
    if len(reason) > 2000:
        raise ValidationError({"reason": _("Keep the reason under 2,000 characters.")})
    with transaction.atomic():
        nrm.withdrawn_at = timezone.now()
        nrm.withdrawn_by = actor
        nrm.withdrawal_reason = reason.strip()
        nrm.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
        record("nrm.withdrawn", actor=actor, target=nrm)
        _tell_nrm_agencies(
            nrm,
            "nrm.withdrawn",
            _("The person withdrew from the NRM on case %(ref)s: its clocks have stopped")
            % {"ref": nrm.case.reference},
            f"nrm:{nrm.pk}:withdrawn",
        )
    return nrm


def nrm_reconsideration_request(
    *,
    actor: User,
    nrm: NRMReferral,
    requested_on: datetime.date,
    requested_by: str,
    grounds: str,
    extension_granted: bool = False,
    extension_reason: str = "",
) -> NRMReconsideration:
    """Record a request to reconsider the NRM's negative decision (the CG one if there is
    one, else the RG one): within the jurisdiction's window, or later with an extension
    granted for exceptional circumstances (its reason recorded)."""
    require_nrm_changer(actor, nrm)
    _require_not_withdrawn(nrm)
    stage = nrm.reconsideration_stage
    if stage is None:
        raise IllegalTransition(
            _(
                "There is no negative decision to reconsider on this referral, or its "
                "reconsideration was already asked."
            )
        )
    decided_on = nrm.cg_decided_on if stage == Stage.CG else nrm.rg_decided_on
    deadline = nrm.reconsideration_deadline
    errors: dict[str, str] = {}
    if requested_by not in Requester.values:
        errors["requested_by"] = _("Choose who asked for the reconsideration.")
    if not grounds.strip():
        errors["grounds"] = _("Give the grounds of the request.")
    if requested_on is None:
        errors["requested_on"] = _("Give the date of the request.")
    elif requested_on < decided_on or requested_on > timezone.localdate():
        errors["requested_on"] = _(
            "The request is dated between the decision (%(date)s) and today."
        ) % {"date": date_format(decided_on, "j F Y")}
    elif requested_on > deadline and not extension_granted:
        errors["requested_on"] = _(
            "A reconsideration is asked within %(days)s days of the decision, by %(date)s. "
            "Later, only with an extension granted for exceptional circumstances: tick it "
            "and give the reason."
        ) % {"days": nrm.reconsideration_days, "date": date_format(deadline, "j F Y")}
    if extension_granted and not extension_reason.strip():
        errors["extension_reason"] = _("Give the reason the extension was granted.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = NRMReconsideration.objects.create(
            nrm=nrm,
            stage=stage,
            original_decided_on=decided_on,
            requested_on=requested_on,
            requested_by=requested_by,
            grounds=grounds.strip(),
            extension_granted=extension_granted,
            extension_reason=extension_reason.strip() if extension_granted else "",
            recorded_by=actor,
        )
        record(
            "nrm.reconsideration_requested",
            actor=actor,
            target=nrm,
            detail={"stage": stage, "extension": extension_granted},
        )
    return row


def nrm_reconsideration_outcome(
    *,
    actor: User,
    reconsideration: NRMReconsideration,
    outcome: str,
    outcome_on: datetime.date,
) -> NRMReconsideration:
    """Record the competent authority's answer. It is the final decision of its stage: an
    overturned RG starts the recovery period on its date, an overturned CG the positive
    move-on support, an upheld one the negative move-on; the original date stays on the
    reconsideration."""
    nrm = reconsideration.nrm
    require_nrm_changer(actor, nrm)
    _require_not_withdrawn(nrm)
    if reconsideration.outcome != ReconsiderationOutcome.PENDING:
        raise IllegalTransition(_("The outcome of this reconsideration is already recorded."))
    errors: dict[str, str] = {}
    if outcome not in (ReconsiderationOutcome.UPHELD, ReconsiderationOutcome.OVERTURNED):
        errors["outcome"] = _("Choose upheld or overturned.")
    if outcome_on is None:
        errors["outcome_on"] = _("Give the date of the new decision.")
    elif outcome_on < reconsideration.requested_on or outcome_on > timezone.localdate():
        errors["outcome_on"] = _("The date must be between the request and today.")
    if errors:
        raise ValidationError(errors)
    decision = (
        Decision.POSITIVE if outcome == ReconsiderationOutcome.OVERTURNED else Decision.NEGATIVE
    )
    with transaction.atomic():
        reconsideration.outcome = outcome
        reconsideration.outcome_on = outcome_on
        reconsideration.outcome_recorded_by = actor
        reconsideration.save(update_fields=["outcome", "outcome_on", "outcome_recorded_by"])
        if reconsideration.stage == Stage.CG:
            nrm.cg_decision, nrm.cg_decided_on = decision, outcome_on
            nrm.save(update_fields=["cg_decision", "cg_decided_on"])
        else:
            nrm.rg_decision, nrm.rg_decided_on = decision, outcome_on
            nrm.save(update_fields=["rg_decision", "rg_decided_on"])
        record(
            "nrm.reconsideration_decided",
            actor=actor,
            target=nrm,
            detail={"stage": reconsideration.stage, "outcome": outcome},
        )
        _tell_nrm_agencies(
            nrm,
            "nrm.reconsidered",
            _("The reconsideration on case %(ref)s is decided: %(outcome)s")
            % {"ref": nrm.case.reference, "outcome": reconsideration.get_outcome_display()},
            f"nrm:{nrm.pk}:reconsidered:{reconsideration.stage}",
        )
    return reconsideration


def nrm_declined(*, actor: User, case: Case) -> NRMDecline:
    """Record that an adult declined an NRM referral. Where the case's lead agency (or,
    failing it, the recording agency) is under the duty to notify, its lead caseworker is
    given a task to file the MS1 within the jurisdiction's working days."""
    membership = _require_case_agency(actor, case, ADD_NRM)
    rules = jurisdictions.for_agency(membership.agency)
    if rules is None:
        raise PermissionDenied(NO_NRM_HERE)
    if case.is_child:
        raise IllegalTransition(
            _("Children are referred into the NRM without consent: refer the child.")
        )
    if Consent.objects.active().filter(case=case, scope=ConsentScope.NRM_REFERRAL).exists():
        raise IllegalTransition(
            _(
                "A consent to an NRM referral is recorded: withdraw it first if the "
                "person has changed their mind."
            )
        )
    lead = case.lead_agency
    lead_rules = jurisdictions.for_agency(lead)
    if lead_rules is not None and lead.kind in lead_rules.duty_to_notify:
        task_agency, assignee, task_rules = lead, case.lead_caseworker, lead_rules
    elif membership.agency.kind in rules.duty_to_notify:
        task_agency, assignee, task_rules = membership.agency, actor, rules
    else:
        task_agency = None
    with transaction.atomic():
        decline = NRMDecline.objects.create(case=case, agency=membership.agency, recorded_by=actor)
        record("nrm.declined", actor=actor, target=decline)
        if task_agency is not None:
            casework.task_open(
                case=case,
                kind="file_ms1",
                due_on=due_date(
                    timezone.now(),
                    task_rules.ms1_prompt_working_days,
                    task_agency.country,
                    task_agency.subdivision,
                ),
                assignee=assignee,
                agency=task_agency,
                reason_key=f"nrm_decline:{decline.pk}",
            )
    return decline


NO_NRM_HERE = gettext_lazy(
    "Your agency's country has no National Referral Mechanism in Concord: NRM referrals "
    "and MS1s are for agencies in the United Kingdom."
)


def duty_to_notify_file(
    *, actor: User, case: Case, anonymous: bool = True, reference: str = ""
) -> DutyToNotify:
    """File an MS1 for an adult who does not consent to an NRM referral: by the bodies
    under the duty to notify in the agency's jurisdiction (``referrals.jurisdictions``).
    It is anonymous unless the adult consented to being named (MSA 2015 s.52(3))."""
    membership = _require_case_agency(actor, case, ADD_DUTY_TO_NOTIFY)
    rules = jurisdictions.for_agency(membership.agency)
    if rules is None:
        raise PermissionDenied(NO_NRM_HERE)
    if membership.agency.kind not in rules.duty_to_notify:
        raise PermissionDenied(
            _(
                "The duty to notify falls on police forces, the National Crime Agency, local "
                "authorities, the labour inspectorate and the Home Office."
            )
        )
    if case.is_child:
        raise ValidationError(
            {
                "case": _(
                    "Children are referred into the NRM without consent; "
                    "no Duty to Notify is filed."
                )
            }
        )
    if Consent.objects.active().filter(case=case, scope=ConsentScope.NRM_REFERRAL).exists():
        raise ValidationError(
            {
                "case": _(
                    "The person consents to an NRM referral: make the referral instead of an MS1."
                )
            }
        )
    if not anonymous and not (
        Consent.objects.active().filter(case=case, scope=ConsentScope.MS1_NAMED).exists()
    ):
        raise ValidationError(
            {
                "anonymous": _(
                    "An MS1 names the person only with their consent (Modern Slavery Act 2015 "
                    "s.52(3)). Record that consent first, or file it anonymously."
                )
            }
        )
    with transaction.atomic():
        ms1 = DutyToNotify.objects.create(
            case=case,
            agency=membership.agency,
            submitted_by=actor,
            anonymous=anonymous,
            reference=reference,
        )
        record("nrm.duty_to_notify", actor=actor, target=ms1, detail={"anonymous": anonymous})
    return ms1


# How far ahead "approaching" looks, per clock.
APPROACHING = {
    "support_ends": datetime.timedelta(days=7),
    "rg_due": datetime.timedelta(days=1),
    "reconsideration": datetime.timedelta(days=7),
    "recovery_ends": datetime.timedelta(days=7),
    "support_contact": datetime.timedelta(hours=12),
}
NRM_ROLES = CARE | {"officer"}
# What a reminder says when a clock approaches, and when it has passed. Two clocks' ends are
# not missed deadlines: the minimum recovery period ending with the Conclusive Grounds
# decision still pending (support goes on until it), and move-on support ending.
APPROACHING_TEXT = gettext_lazy("%(what)s on %(when)s, case %(ref)s")
PASSED_TEXT = gettext_lazy("Overdue on case %(ref)s: %(what)s %(when)s")
PASSED = {
    "recovery_ends": gettext_lazy(
        "The minimum recovery period has ended on case %(ref)s; support continues until the "
        "Conclusive Grounds decision"
    ),
    "support_ends": gettext_lazy("Move-on support ended on case %(ref)s on %(when)s"),
}


def nrm_send_deadline_reminders(*, now: datetime.datetime | None = None) -> int:
    """Tell the referring agency when an NRM clock approaches and when it passes; each
    message once (the dedup key is the clock and the moment), so it is safe to run often.
    Returns how many clocks were due a word (not how many new rows: notify dedups)."""
    now = now or timezone.now()
    sent = 0
    open_nrms = (
        NRMReferral.objects.filter(case__status__in=["open", "active"], withdrawn_at__isnull=True)
        .select_related("agency", "case__lead_agency")
        .prefetch_related("reconsiderations")
    )
    for nrm in open_nrms:
        for clock, label, due in nrm.clocks():
            if due < now:
                moment, text = "passed", PASSED.get(clock, PASSED_TEXT)
            elif due - now <= APPROACHING[clock]:
                moment, text = "approaching", APPROACHING_TEXT
            else:
                continue
            when = date_format(
                timezone.localtime(due), "j F Y H:i" if clock == "support_contact" else "j F Y"
            )
            with transaction.atomic():
                _tell_nrm_agencies(
                    nrm,
                    f"nrm.{clock}.{moment}",
                    text
                    % {
                        "what": label,
                        "ref": nrm.case.reference,
                        "when": when,
                    },
                    f"nrm:{nrm.pk}:{clock}:{moment}:{due:%Y%m%d%H%M}",
                )
                sent += 1
    return sent
