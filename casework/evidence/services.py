"""Evidence access requests and criminal-justice outcomes: the writes.

An officer on a case shared with the force asks for specific items (documents, notes
visible to the case team, the identity, a meeting with the person). The lead agency's
caseworkers and case managers decide with the person: each approved item needs its
consent, and the decider confirms the person was consulted and is ready. An approval
grants the requesting officer alone exactly the approved items, through the access engine
with the request as the reason, until it expires; expiry, revocation by the lead agency
and withdrawal of the consent each end it on the next request.

Officers and prosecutors of an agency the case is shared with record what justice did.
Break-glass is ``break_glass``; what the pages and the API read is ``reads``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from agencies import access
from agencies.models import User
from audit.record import record
from core.errors import IllegalTransition
from notifications.services import notify, notify_agency

from ..audit_actions import CaseAction
from ..models import (
    GRANTING_STATUSES,
    Case,
    CaseNote,
    Consent,
    ConsentScope,
    Document,
    EvidenceAccessRequest,
    EvidenceItemKind,
    EvidenceRequestItem,
    EvidenceRequestStatus,
    JusticeOutcome,
    NoteVisibility,
)
from ..permissions import (
    CARE,
    DECIDE_EVIDENCE,
    RECORD_JUSTICE_OUTCOME,
    REQUEST_EVIDENCE,
    VIEW_CASE,
    VIEW_CASENOTE,
    VIEW_DOCUMENT,
    VIEW_IDENTITY,
)

Status = EvidenceRequestStatus
Kind = EvidenceItemKind

# The audit action of an approval's end, by the status it ends in.
ENDED_ACTION: dict[str, CaseAction] = {
    Status.EXPIRED: CaseAction.EVIDENCE_EXPIRED,
    Status.REVOKED: CaseAction.EVIDENCE_REVOKED,
}
# What an approved item grants its officer (documents and notes one by one).
ITEM_PERMISSION: dict[str, str] = {
    Kind.DOCUMENT: VIEW_DOCUMENT,
    Kind.NOTE: VIEW_CASENOTE,
    Kind.IDENTITY: VIEW_IDENTITY,
}
# The consent each kind of item needs, and whether the consent must name the force.
ITEM_CONSENT: dict[str, tuple[str, bool]] = {
    Kind.DOCUMENT: (ConsentScope.EVIDENCE_USE, False),
    Kind.NOTE: (ConsentScope.EVIDENCE_USE, False),
    Kind.MEETING: (ConsentScope.POLICE_CONTACT, False),
    Kind.IDENTITY: (ConsentScope.SHARE_IDENTITY, True),
}


def _case_url(case: Case) -> str:
    return reverse("casework:case_detail", args=[case.pk])


# --- Items ----------------------------------------------------------------------------


def _parse_items(case: Case, items: Iterable[dict[str, Any]]) -> list[EvidenceRequestItem]:
    """``[{"kind": ..., "id": ...}]`` as unsaved items of this case, or a clear error."""
    parsed: list[EvidenceRequestItem] = []
    seen: set[tuple[str, int | None]] = set()
    for raw in items:
        kind = raw.get("kind") if isinstance(raw, dict) else None
        if kind not in Kind.values:
            raise ValidationError(
                {
                    "items": _("Each item needs a kind: %(kinds)s.")
                    % {"kinds": ", ".join(Kind.values)}
                }
            )
        item_id = raw.get("id")
        item = EvidenceRequestItem(kind=kind)
        if kind == Kind.DOCUMENT:
            item.document = Document.objects.filter(case=case, pk=_as_id(item_id)).first()
            if item.document is None:
                raise ValidationError({"items": _("There is no such document on this case.")})
        elif kind == Kind.NOTE:
            item.note = CaseNote.objects.filter(
                case=case, pk=_as_id(item_id), visibility=NoteVisibility.CASE_TEAM
            ).first()
            if item.note is None:
                raise ValidationError(
                    {"items": _("There is no such note visible to the case team on this case.")}
                )
        key = (kind, item.document_id or item.note_id)
        if key in seen:
            raise ValidationError({"items": _("An item is asked for twice.")})
        seen.add(key)
        parsed.append(item)
    if not parsed:
        raise ValidationError({"items": _("Ask for at least one item.")})
    return parsed


def _as_id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _key(item: EvidenceRequestItem) -> tuple[str, int | None]:
    return (item.kind, item.document_id or item.note_id)


# --- Asking ---------------------------------------------------------------------------


def evidence_request_create(
    *,
    actor: User,
    case: Case,
    purpose: str,
    legal_basis: str,
    items: Iterable[dict[str, Any]],
    crime_reference: str = "",
) -> EvidenceAccessRequest:
    """An officer asks for evidence on a case shared with the force."""
    if not access.user_may(actor, REQUEST_EVIDENCE):
        raise PermissionDenied(_("Only police officers ask for evidence."))
    if not access.can(actor, VIEW_CASE, case):
        raise Http404  # a case the officer cannot see does not exist for them
    membership = access.require_membership(actor)
    errors = {}
    if not purpose.strip():
        errors["purpose"] = _("Name the investigation or operation.")
    if not legal_basis.strip():
        errors["legal_basis"] = _("State the legal basis for the request.")
    if errors:
        raise ValidationError(errors)
    parsed = _parse_items(case, items)
    with transaction.atomic():
        request = EvidenceAccessRequest.objects.create(
            case=case,
            requested_by=actor,
            agency=membership.agency,
            purpose=purpose.strip(),
            crime_reference=crime_reference.strip(),
            legal_basis=legal_basis.strip(),
        )
        for item in parsed:
            item.request = request
        EvidenceRequestItem.objects.bulk_create(parsed)
        record(
            CaseAction.EVIDENCE_REQUESTED,
            actor=actor,
            target=case,
            detail={"request_id": request.pk, "items": [_key(i) for i in parsed]},
        )
        notify_agency(
            agency=case.lead_agency,
            roles=CARE,
            kind="evidence.requested",
            target=request,
            message=_("%(agency)s asks for evidence on case %(ref)s")
            % {"agency": membership.agency.name, "ref": case.reference},
            url=_case_url(case),
            dedup_key=f"evidence:{request.pk}:requested",
        )
    return request


# --- Deciding -------------------------------------------------------------------------


def _require_decider(actor: User, request: EvidenceAccessRequest) -> None:
    if not access.can(actor, DECIDE_EVIDENCE, request.case):
        raise PermissionDenied(
            _("Only the lead agency's caseworkers and case managers decide evidence requests.")
        )


def _missing_consent(request: EvidenceAccessRequest, kinds: set[str]) -> list[str]:
    """What consent each kind of approved item lacks, in words."""
    active = list(Consent.objects.active().filter(case=request.case))
    missing = []
    for kind in sorted(kinds):
        scope, naming = ITEM_CONSENT[kind]
        found = any(
            c.scope == scope
            and (c.agency_id == request.agency_id or (not naming and c.agency_id is None))
            for c in active
        )
        if not found:
            label = ConsentScope(scope).label
            missing.append(
                _("%(kind)s needs the person's consent: %(scope)s, naming %(agency)s")
                % {"kind": Kind(kind).label, "scope": label, "agency": request.agency.name}
                if naming
                else _("%(kind)s needs the person's consent: %(scope)s")
                % {"kind": Kind(kind).label, "scope": label}
            )
    return missing


def _expiry(expires_at: datetime.datetime | None, now: datetime.datetime) -> datetime.datetime:
    longest = now + datetime.timedelta(days=settings.EVIDENCE_ACCESS_MAX_DAYS)
    if expires_at is None:
        return now + datetime.timedelta(days=settings.EVIDENCE_ACCESS_DAYS)
    if expires_at <= now:
        raise ValidationError({"expires_at": _("Access must end in the future.")})
    if expires_at > longest:
        raise ValidationError(
            {
                "expires_at": _("Access may last at most %(days)d days.")
                % {"days": settings.EVIDENCE_ACCESS_MAX_DAYS}
            }
        )
    return expires_at


def evidence_request_approve(
    *,
    actor: User,
    request: EvidenceAccessRequest,
    items: Iterable[dict[str, Any]],
    victim_consulted: bool,
    expires_at: datetime.datetime | None = None,
    note: str = "",
) -> EvidenceAccessRequest:
    """Approve some or all of the items; grant them to the requesting officer alone."""
    _require_decider(actor, request)
    if request.status != Status.PENDING:
        raise IllegalTransition(_("Only a pending request can be approved."))
    if not victim_consulted:
        raise ValidationError(
            {"victim_consulted": _("Confirm that the person was consulted and is ready.")}
        )
    now = timezone.now()
    ends = _expiry(expires_at, now)
    requested = {_key(item): item for item in request.items.all()}
    chosen = _parse_items(request.case, items)
    unknown = [item for item in chosen if _key(item) not in requested]
    if unknown:
        raise ValidationError({"items": _("Approve only items that were asked for.")})
    approved = {_key(item) for item in chosen}
    missing = _missing_consent(request, {item.kind for item in chosen})
    if missing:
        raise ValidationError({"items": missing})
    with transaction.atomic():
        request = EvidenceAccessRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != Status.PENDING:
            raise IllegalTransition(_("Only a pending request can be approved."))
        for key, item in requested.items():
            item.approved = key in approved
        EvidenceRequestItem.objects.bulk_update(list(requested.values()), ["approved"])
        request.status = (
            Status.APPROVED if len(approved) == len(requested) else Status.PARTLY_APPROVED
        )
        request.decided_by, request.decided_at = actor, now
        request.decision_note, request.victim_consulted = note, True
        request.expires_at = ends
        request.save()
        for item in requested.values():
            if item.approved and item.kind in ITEM_PERMISSION:
                target = item.document or item.note or request.case
                access.grant(
                    actor=actor,
                    obj=target,
                    perms=[ITEM_PERMISSION[item.kind]],
                    reason=request,
                    user=request.requested_by,
                    expires_at=ends,
                )
        record(
            CaseAction.EVIDENCE_APPROVED,
            actor=actor,
            target=request.case,
            detail={
                "request_id": request.pk,
                "items": sorted(approved),
                "expires_at": ends.isoformat(),
            },
        )
        _tell_officer(request, "decided", _("Your evidence request on case %(ref)s was decided"))
    return request


def evidence_request_decline(
    *, actor: User, request: EvidenceAccessRequest, reason: str
) -> EvidenceAccessRequest:
    _require_decider(actor, request)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the request is declined.")})
    with transaction.atomic():
        _move(request, {Status.PENDING}, Status.DECLINED)
        request.decided_by, request.decided_at = actor, timezone.now()
        request.decision_note = reason.strip()
        request.save()
        request.items.update(approved=False)
        detail = {"request_id": request.pk}
        record(CaseAction.EVIDENCE_DECLINED, actor=actor, target=request.case, detail=detail)
        _tell_officer(request, "decided", _("Your evidence request on case %(ref)s was decided"))
    return request


def evidence_request_withdraw(
    *, actor: User, request: EvidenceAccessRequest
) -> EvidenceAccessRequest:
    """The requesting officer withdraws a pending request."""
    if actor.pk != request.requested_by_id:
        raise PermissionDenied(_("Only the officer who asked withdraws a request."))
    with transaction.atomic():
        _move(request, {Status.PENDING}, Status.WITHDRAWN)
        request.ended_at, request.ended_by = timezone.now(), actor
        request.save()
        detail = {"request_id": request.pk}
        record(CaseAction.EVIDENCE_WITHDRAWN, actor=actor, target=request.case, detail=detail)
    return request


def evidence_request_revoke(
    *, actor: User, request: EvidenceAccessRequest, reason: str = ""
) -> EvidenceAccessRequest:
    """The lead agency ends an approval before it expires."""
    _require_decider(actor, request)
    with transaction.atomic():
        _end(request, Status.REVOKED, actor=actor, reason=reason)
        _tell_officer(request, "ended", _("Your access to evidence on case %(ref)s has ended"))
    return request


def _move(request: EvidenceAccessRequest, allowed: set[str], to: str) -> None:
    locked = EvidenceAccessRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status not in allowed:
        raise IllegalTransition(
            _("A request that is %(now)s cannot become %(to)s.")
            % {"now": locked.get_status_display().lower(), "to": Status(to).label.lower()}
        )
    request.status = to


def _end(request: EvidenceAccessRequest, status: str, *, actor: Any, reason: str) -> int:
    """Approved → expired or revoked: the grants go in the same transaction."""
    _move(request, set(GRANTING_STATUSES), status)
    request.ended_at, request.ended_by, request.end_reason = timezone.now(), actor, reason
    request.save()
    revoked = access.revoke_for_reason(actor=actor, reason=request)
    record(
        ENDED_ACTION[status],
        actor=actor,
        target=request.case,
        detail={"request_id": request.pk, "grants_revoked": revoked},
    )
    return revoked


def _tell_officer(request: EvidenceAccessRequest, event: str, message: str) -> None:
    notify(
        recipients=[request.requested_by],
        kind=f"evidence.{event}",
        target=request,
        message=message % {"ref": request.case.reference},
        url=_case_url(request.case),
        dedup_key=f"evidence:{request.pk}:{event}",
    )


# --- Ending ---------------------------------------------------------------------------


def evidence_requests_end_for_consent(*, actor: Any, consent: Consent) -> int:
    """Consent withdrawn: revoke every approval on the case whose approved items needed
    it. Runs inside the withdrawal's transaction (``casework.consents.consent_withdraw``)."""
    kinds = [
        kind
        for kind, (scope, naming) in ITEM_CONSENT.items()
        if scope == consent.scope and (not naming or consent.agency_id is not None)
    ]
    if not kinds:
        return 0
    needing = EvidenceRequestItem.objects.filter(approved=True, kind__in=kinds)
    affected = EvidenceAccessRequest.objects.filter(
        case=consent.case,
        status__in=GRANTING_STATUSES,
        pk__in=needing.values("request_id"),  # one subquery: no join, no duplicates
    )
    if consent.agency_id is not None:
        affected = affected.filter(agency_id=consent.agency_id)
    ended = 0
    for request in affected:
        still_covered = not _missing_consent_excluding(request, consent)
        if still_covered:
            continue  # another active consent covers the same items
        _end(request, Status.REVOKED, actor=actor, reason=_("The person withdrew consent."))
        _tell_officer(request, "ended", _("Your access to evidence on case %(ref)s has ended"))
        ended += 1
    return ended


def _missing_consent_excluding(request: EvidenceAccessRequest, withdrawn: Consent) -> list[str]:
    kinds = set(request.items.filter(approved=True).values_list("kind", flat=True))
    kinds &= set(ITEM_CONSENT)
    active = Consent.objects.active().filter(case=request.case).exclude(pk=withdrawn.pk)
    missing = []
    for kind in kinds:
        scope, naming = ITEM_CONSENT[kind]
        match = (
            Q(agency_id=request.agency_id)
            if naming
            else Q(agency_id=request.agency_id) | Q(agency__isnull=True)
        )
        if not active.filter(match, scope=scope).exists():
            missing.append(kind)
    return missing


def evidence_requests_expire(*, now: datetime.datetime | None = None) -> int:
    """Beat: approvals past their end become expired (their grants stopped counting at
    ``expires_at`` already; here the rows go) and officers are told a few days before."""
    now = now or timezone.now()
    warn_before = datetime.timedelta(days=settings.EVIDENCE_EXPIRY_WARNING_DAYS)
    approaching = EvidenceAccessRequest.objects.filter(
        status__in=GRANTING_STATUSES,
        expires_at__gt=now,
        expires_at__lte=now + warn_before,
        expiry_warned_at__isnull=True,
    )
    for request in approaching.select_related("case", "requested_by"):
        with transaction.atomic():
            # Claimed by one conditional UPDATE: two beats running at once tell once.
            claimed = approaching.filter(pk=request.pk).update(expiry_warned_at=now)
            if claimed:
                record(
                    CaseAction.EVIDENCE_EXPIRY_WARNED,
                    actor=None,
                    target=request.case,
                    detail={"request_id": request.pk},
                )
                _tell_officer(
                    request, "expiring", _("Your access to evidence on case %(ref)s ends soon")
                )
    expired = 0
    for request in EvidenceAccessRequest.objects.filter(
        status__in=GRANTING_STATUSES, expires_at__lte=now
    ).select_related("case", "requested_by"):
        with transaction.atomic():
            _end(request, Status.EXPIRED, actor=None, reason="")
            expired += 1
    return expired


# --- Criminal-justice outcomes --------------------------------------------------------


OUTCOME_NEEDS_AGENCY_SIGHT = _lazy(
    "You see this case through a grant to you alone (a break-glass or an evidence "
    "request): only an agency the case is shared with records its justice outcomes."
)


def justice_outcome_require_agency_sight(actor: Any, case: Case) -> None:
    """An outcome is recorded for the actor's *agency* (and may then go to prosecutors of
    another agency, who gain lasting access), so the case must be shared with that agency
    (``access.agency_can``): a grant to the person alone (a break-glass, an approved
    evidence request) lets them read for a while, never act for their agency. Not seen
    at all: 404, as for a case that does not exist; seen personally only: 403."""
    if access.agency_can(actor, VIEW_CASE, case):
        return
    if access.can(actor, VIEW_CASE, case):
        raise PermissionDenied(OUTCOME_NEEDS_AGENCY_SIGHT)
    raise Http404


def justice_outcome_record(*, actor: User, case: Case, **fields: Any) -> JusticeOutcome:
    """An officer or prosecutor of an agency the case is shared with records what justice
    did (``justice_outcome_require_agency_sight``: never on the strength of a grant to
    them alone)."""
    if not access.user_may(actor, RECORD_JUSTICE_OUTCOME):
        raise PermissionDenied(_("Only officers and prosecutors record justice outcomes."))
    justice_outcome_require_agency_sight(actor, case)
    membership = access.require_membership(actor)
    with transaction.atomic():
        outcome = JusticeOutcome(case=case, recorded_by_agency=membership.agency, **fields)
        outcome.full_clean()
        outcome.save()
        record(
            CaseAction.JUSTICE_OUTCOME_RECORDED,
            actor=actor,
            target=case,
            detail={"outcome_id": outcome.pk, "court_outcome": outcome.court_outcome},
        )
    return outcome
