"""Demo referrals in every state, NRM referrals on their clocks, one overdue referral.
The consents they rely on are recorded by casework's demo.

Idempotent: nothing is added once any referral exists.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, User
from casework import consents
from casework.evidence import break_glass
from casework.evidence import services as evidence_services
from casework.models import (
    BreakGlassEvent,
    BreakGlassGrounds,
    Case,
    CaseNote,
    CaseUserGrant,
    EvidenceAccessRequest,
    NoteVisibility,
)

from . import nrm_services, services
from .models import Referral, ReferralKind


def _user(username: str) -> User:
    return User.objects.select_related("membership__agency").get(username=username)


def seed(log: Any = print) -> None:
    if Referral.objects.exists():
        return
    cw, council_cw = _user("harbour.caseworker"), _user("council.caseworker")
    officer = _user("north.officer")
    council = Agency.objects.get(name="Northshire Council Adult Social Care")
    police = Agency.objects.get(name="Northshire Police")
    health = Agency.objects.get(name="Northshire Health")
    health_cw = _user("health.caseworker")
    harbour_cases = list(
        Case.objects.filter(lead_agency=cw.membership.agency).order_by("reference")
    )
    if len(harbour_cases) < 4:
        return
    mihai, elira, maricel, jordan = harbour_cases[:4]
    now = timezone.now()
    with transaction.atomic():
        # Accepted: the Council provides accommodation (location shared), identity with consent.
        accepted = services.referral_send(
            actor=cw,
            case=maricel,
            to_agency=council,
            kind="accommodation",
            urgency="urgent",
            reason="Needs move-on accommodation in the council area.",
            share_identity=True,
        )
        services.referral_accept(actor=council_cw, referral=accepted)
        # Accepted crime report: Northshire Police now sees Mihai's case summary.
        report = services.referral_send(
            actor=cw,
            case=mihai,
            to_agency=police,
            kind="police_crime_report",
            urgency="routine",
            reason="Wishes to report the gangmaster at the farm.",
        )
        services.referral_accept(actor=officer, referral=report)
        # Waiting, and already overdue: an emergency referral sent five hours ago.
        overdue = services.referral_send(
            actor=cw,
            case=elira,
            to_agency=health,
            kind="health",
            urgency="emergency",
            reason="Needs an urgent sexual health appointment.",
        )
        Referral.objects.filter(pk=overdue.pk).update(
            sent_at=now - datetime.timedelta(hours=5), respond_by=now - datetime.timedelta(hours=1)
        )
        # Waiting, in time.
        services.referral_send(
            actor=cw,
            case=jordan,
            to_agency=council,
            kind="casework_support",
            urgency="routine",
            reason="Social worker support for the foster placement.",
        )
        # Declined, withdrawn, completed.
        declined = services.referral_send(
            actor=cw,
            case=mihai,
            to_agency=health,
            kind="health",
            reason="Dental treatment.",
        )
        services.referral_decline(
            actor=health_cw, referral=declined, reason="Please refer to the dental hospital."
        )
        withdrawn = services.referral_send(
            actor=cw,
            case=elira,
            to_agency=council,
            kind="legal_advice",
            reason="Immigration advice.",
        )
        services.referral_withdraw(actor=cw, referral=withdrawn)
        completed = services.referral_send(
            actor=cw,
            case=mihai,
            to_agency=council,
            kind="other",
            reason="Help with a bank account.",
        )
        services.referral_accept(actor=council_cw, referral=completed)
        services.referral_complete(actor=council_cw, referral=completed)

        # Expired: sent a month ago to the Council and never answered.
        stale = services.referral_send(
            actor=cw,
            case=jordan,
            to_agency=council,
            kind="other",
            reason="School transport.",
        )
        Referral.objects.filter(pk=stale.pk).update(
            sent_at=now - datetime.timedelta(days=30), respond_by=now - datetime.timedelta(days=25)
        )
        services.referrals_expire(now=now)

        # NRM: Mihai inside his recovery period; Elira's negative RG inside the window.
        nrm = nrm_services.nrm_refer(
            actor=cw, case=mihai, submitted_at=now - datetime.timedelta(days=20)
        )
        # An adult's NRM support needs their own consent to it.
        consents.consent_record(actor=cw, case=mihai, scope="nrm_support", method="written")
        nrm_services.nrm_update(
            actor=cw,
            nrm=nrm,
            competent_authority_reference="CA-2026-1187",
            rg_decision="positive",
            rg_decided_on=timezone.localdate() - datetime.timedelta(days=12),
            support_allocated_at=now - datetime.timedelta(days=11),
            support_contacted_at=now - datetime.timedelta(days=10),
        )
        nrm2 = nrm_services.nrm_refer(
            actor=cw, case=elira, submitted_at=now - datetime.timedelta(days=15)
        )
        nrm_services.nrm_update(
            actor=cw,
            nrm=nrm2,
            competent_authority_reference="CA-2026-1203",
            rg_decision="negative",
            rg_decided_on=timezone.localdate() - datetime.timedelta(days=6),
        )
        # A child referred without consent, waiting for the RG decision.
        nrm_services.nrm_refer(actor=cw, case=jordan, submitted_at=now - datetime.timedelta(days=3))
        _seed_evidence(cw, officer, mihai, now)
    log(
        f"  {Referral.objects.count()} referrals, 3 NRM referrals, 3 evidence requests, "
        "a file to prosecutors"
    )


def _seed_evidence(cw: User, officer: User, case: Case, now: datetime.datetime) -> None:
    """On Mihai's case, shared with Northshire Police by the crime report: a pending, an
    approved and an expired evidence request, and a reviewed break-glass."""
    consents.consent_record(actor=cw, case=case, scope="evidence_use", method="written")
    note = CaseNote.objects.filter(case=case, visibility=NoteVisibility.CASE_TEAM).first()

    def ask(items: list[dict[str, Any]], purpose: str) -> EvidenceAccessRequest:
        return evidence_services.evidence_request_create(
            actor=officer,
            case=case,
            purpose=purpose,
            crime_reference="NP/2026/0419",
            legal_basis="Investigation of offences under the Modern Slavery Act 2015, s.1",
            items=items,
        )

    ask([{"kind": "meeting"}], "Operation Harvest: witness interview")
    approved = ask([{"kind": "note", "id": note.pk}], "Operation Harvest") if note else None
    if approved is not None:
        evidence_services.evidence_request_approve(
            actor=cw,
            request=approved,
            items=[{"kind": "note", "id": note.pk}],
            victim_consulted=True,
            note="Mihai agreed, through his interpreter, that the police may read this note.",
        )
    expired = ask([{"kind": "meeting"}], "Operation Harvest: first contact")
    evidence_services.evidence_request_approve(
        actor=cw,
        request=expired,
        items=[{"kind": "meeting"}],
        victim_consulted=True,
        expires_at=now + datetime.timedelta(days=1),
    )
    EvidenceAccessRequest.objects.filter(pk=expired.pk).update(
        expires_at=now - datetime.timedelta(days=2)
    )
    evidence_services.evidence_requests_expire(now=now)
    event = break_glass.break_glass_open(
        actor=officer,
        case=case,
        grounds=BreakGlassGrounds.THREAT_TO_LIFE,
        reason="Caller reported the gangmaster outside the safe house at 02:10.",
    )
    # Three days ago: its hour is long over.
    opened = now - datetime.timedelta(days=3)
    BreakGlassEvent.objects.filter(pk=event.pk).update(
        opened_at=opened, expires_at=opened + datetime.timedelta(hours=1)
    )
    CaseUserGrant.objects.filter(
        reason_type=ContentType.objects.get_for_model(BreakGlassEvent), reason_id=event.pk
    ).update(expires_at=opened + datetime.timedelta(hours=1))
    event.refresh_from_db()
    break_glass.break_glass_review(
        actor=_user("harbour.manager"),
        event=event,
        note="Justified: the call is logged; Mihai was moved the same night.",
    )
    # The police record the crime and send the file to the prosecutors, who accept it.
    outcome = evidence_services.justice_outcome_record(
        actor=officer,
        case=case,
        crime_recorded=True,
        crime_reference="NP/2026/0419",
        suspects_identified=2,
        offences="Modern Slavery Act 2015 s.1 (forced labour), s.2 (human trafficking)",
    )
    prosecutor = _user("cps.prosecutor")
    file = services.referral_send(
        actor=officer,
        case=case,
        to_agency=prosecutor.membership.agency,
        kind=ReferralKind.PROSECUTION_FILE,
        reason="File for a charging decision on the two suspects.",
        justice_outcome=outcome,
    )
    services.referral_accept(actor=prosecutor, referral=file)
