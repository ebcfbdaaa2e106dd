"""Writes of the National Referral Mechanism: referring a person into it, recording the
competent authority's reference and decisions, reconsiderations of a negative decision,
the person's withdrawal, an adult's decline and the Duty to Notify (MS1) it may lead to,
and the reminders of its clocks. Each checks its rule, changes state, audits, and tells
the agencies that keep the person's NRM clocks (notifications outbox)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agencies import access
from agencies.models import User
from audit.record import record
from casework import case_tasks
from casework.models import Case, Consent, ConsentScope
from casework.permissions import VIEW_CASE
from core.errors import IllegalTransition
from notifications.services import notify_agency

from . import jurisdictions
from .audit_actions import ReferralAction
from .calendar import due_date
from .models import (
    Decision,
    DutyToNotify,
    NRMDecline,
    NRMReconsideration,
    NRMReferral,
    ReconsiderationOutcome,
    Requester,
    Stage,
)
from .permissions import ADD_DUTY_TO_NOTIFY, ADD_NRM, CARE, CHANGE_NRM

NO_NRM_HERE = gettext_lazy(
    "Your agency's country has no National Referral Mechanism in Concord: NRM referrals "
    "and MS1s are for agencies in the United Kingdom."
)

# Who is told of an NRM's clocks, in each agency that keeps them.
NRM_ROLES = CARE | {"officer"}


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
        record(
            ReferralAction.NRM_REFERRED, actor=actor, target=nrm, detail={"child": case.is_child}
        )
    return nrm


def nrm_in_progress(case: Case) -> models.QuerySet[NRMReferral]:
    """The case's NRM referrals still in progress: not withdrawn, no Conclusive Grounds
    decision, and not ended by a negative Reasonable Grounds decision (unless that one is
    being reconsidered). One at a time per person."""
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
        record(
            ReferralAction.NRM_UPDATED, actor=actor, target=nrm, detail={"fields": sorted(fields)}
        )
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
        record(ReferralAction.NRM_WITHDRAWN, actor=actor, target=nrm)
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
    # reconsideration_stage names a stage only when its negative decision has a date.
    assert decided_on is not None and deadline is not None
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
            ReferralAction.NRM_RECONSIDERATION_REQUESTED,
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
            ReferralAction.NRM_RECONSIDERATION_DECIDED,
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
        record(ReferralAction.NRM_DECLINED, actor=actor, target=decline)
        if task_agency is not None:
            case_tasks.task_open(
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
        record(
            ReferralAction.NRM_DUTY_TO_NOTIFY,
            actor=actor,
            target=ms1,
            detail={"anonymous": anonymous},
        )
    return ms1


# How far ahead "approaching" looks, per clock.
APPROACHING = {
    "support_ends": datetime.timedelta(days=7),
    "rg_due": datetime.timedelta(days=1),
    "reconsideration": datetime.timedelta(days=7),
    "recovery_ends": datetime.timedelta(days=7),
    "support_contact": datetime.timedelta(hours=12),
}
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
