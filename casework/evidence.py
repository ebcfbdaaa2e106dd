"""Evidence access requests and break-glass (issue 6): the services.

An officer on a case shared with the force asks for specific items (documents, notes
visible to the case team, the identity, a meeting with the person). The lead agency's
caseworkers and case managers decide with the person: each approved item needs its
consent, and the decider confirms the person was consulted and is ready. An approval
grants the requesting officer alone exactly the approved items, through the access engine
with the request as the reason, until it expires; expiry, revocation by the lead agency
and withdrawal of the consent each end it on the next request.

Break-glass opens a case's identity and location to one officer or case manager of the
lead agency's partnership for BREAK_GLASS_MINUTES, life being at risk. Its reviewers (the
lead agency's case managers, else its agency admins, else the partnership's managers:
``break_glass_reviewers``) are told at once, and the event stays flagged, on their task
list and reminded daily once overdue, until one of them reviews it; nobody to review, no
opening. Use is limited: a fresh reason within the window, a few openings a day (issue 14).
"""

from __future__ import annotations

import datetime
import logging
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from agencies import access
from agencies.errors import IllegalTransition
from agencies.models import Agency, Membership, Partnership, Role, User
from audit.models import AuditEvent
from audit.record import record
from notifications.services import notify, notify_agency

from .models import (
    GRANTING_STATUSES,
    REVIEW_TIERS,
    BreakGlassEvent,
    BreakGlassEventQuerySet,
    BreakGlassGrounds,
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
    break_glass_reviewer_memberships,
)
from .permissions import (
    BREAK_GLASS,
    CARE,
    DECIDE_EVIDENCE,
    RECORD_JUSTICE_OUTCOME,
    REQUEST_EVIDENCE,
    REVIEW_BREAK_GLASS,
    VIEW_CASE,
    VIEW_CASENOTE,
    VIEW_DOCUMENT,
    VIEW_IDENTITY,
    VIEW_LOCATION,
)

logger = logging.getLogger(__name__)

Status = EvidenceRequestStatus
Kind = EvidenceItemKind

# What an approved item grants its officer (documents and notes one by one).
ITEM_PERMISSION = {
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
BREAK_GLASS_PERMISSIONS = (
    VIEW_CASE,
    VIEW_IDENTITY,
    VIEW_LOCATION,
)


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
            "evidence.requested",
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
            "evidence.approved",
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
        record("evidence.declined", actor=actor, target=request.case, detail=detail)
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
        record("evidence.withdrawn", actor=actor, target=request.case, detail=detail)
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
        f"evidence.{status}",
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


def evidence_requests_end_for_consent(*, actor: Any, consent: Consent) -> int:
    """Consent withdrawn: revoke every approval on the case whose approved items needed
    it. Runs inside the withdrawal's transaction (``casework.services.consent_withdraw``)."""
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
                    "evidence.expiry_warned",
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


# --- Break-glass ----------------------------------------------------------------------

BREAK_GLASS_REFUSED = "breakglass.refused"


@dataclass(frozen=True)
class BreakGlassReviewers:
    """Who reviews one break-glass now: the tier holding the duty and its people (no tier
    and nobody when every tier is empty)."""

    tier: str | None
    people: tuple[User, ...]


def break_glass_reviewers(event: BreakGlassEvent) -> BreakGlassReviewers:
    """Who reviews this break-glass: the one answer that opening (who is told, and whether
    anyone could review at all), the review check, the task lists and beat's daily
    reminders share (``BreakGlassEvent.objects.to_review_by`` is its SQL twin, built
    from the same ``break_glass_reviewer_memberships``).

    The duty falls, in order, to the active case managers of the agency that led the case
    when the glass was broken; else its active agency admins; else the managers of the
    partnerships in force then that the lead agency belongs to (and, when the breaker is
    of another agency, that both share), never those of the breaker's own agency. The
    person who broke the glass never reviews it; when they are of the lead agency, their
    colleagues there do (``break_glass_reviewer_memberships`` says why).

    The tier is stored on the event when the glass is broken, not worked out afresh each
    time: the people told are then the people who may review, and a case manager who
    joins next week does not take over (and never hears of) an event the agency admins
    were told to review. Only when nobody at all is left in the stored tier (the lone
    case manager left, the agency was switched off) does the duty fall to the next tier,
    here and in ``to_review_by`` at once; beat then stores the move and tells them.
    """
    start = REVIEW_TIERS.index(event.review_tier)
    for tier in REVIEW_TIERS[start:]:
        members = break_glass_reviewer_memberships(
            tier,
            event=event.pk,
            lead_agency=event.lead_agency_id,
            breaker=event.opened_by_id,
            breaker_agency=event.agency_id,
        )
        people = tuple(User.objects.filter(pk__in=members.values("user_id")).order_by("pk"))
        if people:
            return BreakGlassReviewers(tier, people)
    return BreakGlassReviewers(None, ())


def break_glass_may_review(user: Any, event: BreakGlassEvent) -> bool:
    """Is reviewing ``event`` ``user``'s duty now? (``break_glass_reviewers``, in SQL.)"""
    return BreakGlassEvent.objects.to_review_by(user).filter(pk=event.pk).exists()


def _in_force_partnerships(lead: Agency, breaker_agency: Agency) -> QuerySet[Partnership]:
    """Partnerships in force today that the lead agency belongs to and, when the breaker
    is of another agency, that both share: the ones that allow the opening."""
    shared = Partnership.objects.current().filter(agencies=lead)
    if breaker_agency.pk != lead.pk:
        shared = shared.filter(agencies=breaker_agency)
    return shared


def _normalised(reason: str) -> str:
    """What a reason says, for comparing one with another: its letters and digits in
    order, after folding compatibility forms (NFKC: full-width letters, ligatures,
    non-breaking spaces), case and accents. Format characters (a zero-width space, a
    joiner, a direction mark: category Cf), controls, punctuation, symbols and spaces
    are dropped, so a full stop, an invisible character or "Threat-to-life!" does not
    make a reason new (issue 14 review)."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", reason).casefold())
    return "".join(char for char in folded if unicodedata.category(char)[0] in "LN")


def break_glass_case(case_id: Any) -> Case:
    """The case a break-glass names, whatever the caller sees (the breaker usually sees
    nothing of it yet: ``break_glass_open`` decides). A malformed id ("abc", "false",
    "null", "1.5", a number no bigint holds) is the same 404 as a case that does not
    exist, never a 500."""
    text = str(case_id)
    if not (text.isascii() and text.isdigit()) or int(text) > 2**63 - 1:
        raise Http404
    case = Case.objects.select_related("lead_agency").filter(pk=int(text)).first()
    if case is None:
        raise Http404
    return case


REASON_NEEDED = _lazy("State why a life is at risk.")
GROUNDS_NEEDED = _lazy("Choose the grounds for breaking the glass.")
NO_POWER = _lazy("Only police officers and case managers may break the glass.")


def break_glass_require_power(actor: Any, case: Case | None = None) -> Membership:
    """May ``actor`` break the glass: an active member of an active agency (else 403,
    asked before any case is looked up, the same for every id) whose role holds
    ``BREAK_GLASS``.

    A role without the power: 403 on the break-glass form (no case named yet); on a named
    case, 403 only to someone who already sees the case, and to everyone else the same
    audited 404 as for a case that does not exist — the status must not tell an analyst
    or a prosecutor whether a case is in their partnership (issue 14, item 6)."""
    membership = access.require_membership(actor)
    if not access.role_may(membership.role, BREAK_GLASS):
        if case is None or access.can(actor, VIEW_CASE, case):
            raise PermissionDenied(NO_POWER)
        access.refuse(actor, case, BREAK_GLASS)
        raise Http404
    return membership


def break_glass_check_request(*, grounds: str, reason: str) -> None:
    """What a break-glass must say: grounds among ``BreakGlassGrounds`` and a reason
    (400, naming the field). Checked before the case is looked up, so that an empty body
    is the same 400 for every case id and cannot be used to probe which exist."""
    errors: dict[str, Any] = {}
    if grounds not in BreakGlassGrounds.values:
        errors["grounds"] = GROUNDS_NEEDED
    if not reason.strip():
        errors["reason"] = REASON_NEEDED
    if errors:
        raise ValidationError(errors)


NOBODY_TO_REVIEW = _lazy(
    "Nobody could review this break-glass: the lead agency has no active case manager or "
    "administrator and its partnership no manager. Contact the lead agency directly."
)


class _NobodyToReview(Exception):
    """Raised inside the opening's savepoint: the event and its grant are undone."""


def _limit_refusal(
    actor: User, reason: str, now: datetime.datetime
) -> tuple[str, ValidationError] | None:
    """The use limits (issue 14), checked with the person's row locked: at most
    BREAK_GLASS_DAILY_LIMIT openings in BREAK_GLASS_LIMIT_HOURS, and a fresh reason
    (``_normalised``: not the same words again) for another opening within
    BREAK_GLASS_MINUTES."""
    mine = BreakGlassEvent.objects.filter(opened_by=actor)
    since = now - datetime.timedelta(hours=settings.BREAK_GLASS_LIMIT_HOURS)
    if mine.filter(opened_at__gt=since).count() >= settings.BREAK_GLASS_DAILY_LIMIT:
        limit = settings.BREAK_GLASS_DAILY_LIMIT
        return "daily_limit", ValidationError(
            ngettext(
                "You have broken the glass %(n)d time in %(hours)d hours, the most allowed.",
                "You have broken the glass %(n)d times in %(hours)d hours, the most allowed.",
                limit,
            )
            % {"n": limit, "hours": settings.BREAK_GLASS_LIMIT_HOURS}
            + " "
            + _(
                "Your agency's administrators and the partnership managers have been told; "
                "ask the lead agency directly."
            ),
            code="daily_limit",
        )
    window = now - datetime.timedelta(minutes=settings.BREAK_GLASS_MINUTES)
    given = mine.filter(opened_at__gt=window).values_list("reason", flat=True)
    if _normalised(reason) in {_normalised(earlier) for earlier in given}:
        return "same_reason", ValidationError(
            {
                "reason": _(
                    "You gave this reason for a break-glass in the last %(minutes)d minutes. "
                    "State why a life is at risk now, in this case."
                )
                % {"minutes": settings.BREAK_GLASS_MINUTES}
            }
        )
    return None


def _tell_reviewers(event: BreakGlassEvent, people: Iterable[User], *, kind: str, key: str) -> None:
    """Every reviewer at once, in-app and by email: the case reference and a link, no
    names and no reason (the reason may describe the person)."""
    notify(
        recipients=people,
        kind=kind,
        target=event,
        message=_("A break-glass on case %(ref)s needs your review")
        % {"ref": event.case.reference},
        url=reverse("casework:break_glass", args=[event.pk]),
        dedup_key=f"breakglass:{event.pk}:{key}",
    )


def _tell_of_limit(actor: User, membership: Membership, now: datetime.datetime) -> None:
    """The breaker's agency admins and the managers of its partnerships in force hear
    that one of its people was refused for breaking the glass too often: the agency,
    never the person or the case (the admins' link leads to the member's page)."""
    agency = membership.agency
    message = _(
        "A member of %(agency)s was refused a break-glass: more than %(n)d in %(hours)d hours"
    ) % {
        "agency": agency.name,
        "n": settings.BREAK_GLASS_DAILY_LIMIT,
        "hours": settings.BREAK_GLASS_LIMIT_HOURS,
    }
    day = timezone.localdate(now).isoformat()
    active = Membership.objects.filter(user__is_active=True, agency__active=True).exclude(
        user_id=actor.pk
    )
    admins = active.filter(agency=agency, role=Role.AGENCY_ADMIN)
    managers = active.filter(
        role=Role.PARTNERSHIP_MANAGER,
        agency__partnerships__in=Partnership.objects.current().of_agency(agency),
    )
    notify(
        recipients=User.objects.filter(pk__in=admins.values("user_id")),
        kind="breakglass.limit",
        target=membership,
        message=message,
        url=reverse("agencies:member_detail", args=[membership.pk]),
        dedup_key=f"breakglass:limit:{actor.pk}:{day}:admins",
    )
    notify(
        recipients=User.objects.filter(pk__in=managers.values("user_id")),
        kind="breakglass.limit",
        target=membership,
        message=message,
        url=reverse("casework:break_glass_reviews"),
        dedup_key=f"breakglass:limit:{actor.pk}:{day}:managers",
    )


def break_glass_open(*, actor: User, case: Case, grounds: str, reason: str) -> BreakGlassEvent:
    """Open identity and location to ``actor`` for BREAK_GLASS_MINUTES, life being at risk.

    The rules, in order (the doors ask the first two before they look the case up, so
    that no answer tells whether a case exists):

    - an active member (else 403, whatever the case) whose role holds the power
      (``break_glass_require_power``): else 403 to someone who sees the case and the
      audited 404 of a missing case to everyone else;
    - grounds and a reason (``break_glass_check_request``): else 400 naming the field;
    - outside every partnership in force shared with the lead agency: audited 404, the
      same as for a case that does not exist;
    - an opening of the same case by the same person still open: 409, they already hold
      it;
    - at most BREAK_GLASS_DAILY_LIMIT openings by one person in BREAK_GLASS_LIMIT_HOURS:
      the next is refused (400), audited, and the person's agency admins and the
      partnership managers are told;
    - a second opening within BREAK_GLASS_MINUTES needs a fresh reason (400 on
      ``reason``, audited);
    - someone must be able to review it (``break_glass_reviewers``): else refused (400),
      audited, and nothing is granted.

    Then the grant to ``actor`` alone until it expires, the audit event, and one
    notification to every reviewer at once, in the same transaction.
    """
    membership = break_glass_require_power(actor, case)
    break_glass_check_request(grounds=grounds, reason=reason)
    partnerships = list(_in_force_partnerships(case.lead_agency, membership.agency))
    if membership.agency_id != case.lead_agency_id and not partnerships:
        # Outside the partnership the case does not exist, whatever the role; the trail
        # keeps the attempt.
        access.refuse(actor, case, BREAK_GLASS)
        raise Http404
    reason = reason.strip()
    now = timezone.now()
    event: BreakGlassEvent | None = None
    with transaction.atomic():
        # One person's openings are counted and compared one at a time: two at once
        # cannot both slip under the limit, nor both open the same case.
        User.objects.select_for_update().filter(pk=actor.pk).first()
        _refuse_while_open(actor, case, now)
        refusal = _limit_refusal(actor, reason, now)
        if refusal is None:
            try:
                with transaction.atomic():
                    event = _open(actor, membership, case, grounds, reason, partnerships, now)
            except _NobodyToReview:
                refusal = "no_reviewer", ValidationError(NOBODY_TO_REVIEW, code="no_reviewer")
        if refusal is not None:
            # Written in this transaction, which commits: the refusal stays on the trail.
            why, _error = refusal
            record(BREAK_GLASS_REFUSED, actor=actor, target=case, detail={"why": why})
            if why == "daily_limit":
                _tell_of_limit(actor, membership, now)
    if refusal is not None:
        raise refusal[1]
    assert event is not None
    return event


def _refuse_while_open(actor: User, case: Case, now: datetime.datetime) -> None:
    """A second opening of a case by the person whose earlier one is still open gives
    nothing more and would only add to what its reviewers must look at: 409."""
    still_open = (
        BreakGlassEvent.objects.filter(opened_by=actor, case=case, expires_at__gt=now)
        .order_by("-expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )
    if still_open is not None:
        raise IllegalTransition(
            _(
                "You broke the glass on this case already: you see the person's identity and "
                "location until %(time)s."
            )
            % {"time": timezone.localtime(still_open).strftime("%H:%M")}
        )


def _open(
    actor: User,
    membership: Membership,
    case: Case,
    grounds: str,
    reason: str,
    partnerships: list[Partnership],
    now: datetime.datetime,
) -> BreakGlassEvent:
    event = BreakGlassEvent.objects.create(
        case=case,
        opened_by=actor,
        agency=membership.agency,
        grounds=grounds,
        reason=reason,
        opened_at=now,
        expires_at=now + datetime.timedelta(minutes=settings.BREAK_GLASS_MINUTES),
        lead_agency=case.lead_agency,
        review_tier=REVIEW_TIERS[0],
    )
    event.partnerships.set(partnerships)
    reviewers = break_glass_reviewers(event)
    if reviewers.tier is None:
        raise _NobodyToReview
    if reviewers.tier != event.review_tier:
        event.review_tier = reviewers.tier
        event.save(update_fields=["review_tier"])
    access.grant(
        actor=actor,
        obj=case,
        perms=list(BREAK_GLASS_PERMISSIONS),
        reason=event,
        user=actor,
        expires_at=event.expires_at,
    )
    record(
        "breakglass.opened",
        actor=actor,
        target=case,
        detail={
            "break_glass_id": event.pk,
            "grounds": event.grounds,
            "expires_at": event.expires_at.isoformat(),
            "review_tier": event.review_tier,
        },
    )
    _tell_reviewers(event, reviewers.people, kind="breakglass.opened", key="opened")
    return event


def break_glass_events(user: Any) -> BreakGlassEventQuerySet:
    """Break-glass events as their pages and the API show them to ``user``: with who and
    which agency loaded, and each marked with whether ``user`` may read its reason and
    review note (``BreakGlassEventQuerySet.with_text_for``). Not scoped: callers scope
    (``visible_to``, ``to_review_by``)."""
    return BreakGlassEvent.objects.select_related(
        "case", "opened_by", "agency", "lead_agency", "reviewed_by"
    ).with_text_for(user)


def break_glass_event(user: Any, bg_id: Any) -> BreakGlassEvent:
    """One break-glass for its page or endpoint: seen by the person who broke the glass,
    its reviewers and the lead agency's case managers
    (``BreakGlassEvent.objects.visible_to``); 404 to everyone else, audited, as for an
    event that does not exist (a malformed id too). Its free text only for those who may
    read it (``break_glass_events``)."""
    found: BreakGlassEvent = access.get_visible_or_404(
        break_glass_events(user), user, REVIEW_BREAK_GLASS, pk=bg_id
    )
    return found


def break_glass_review(*, actor: User, event: BreakGlassEvent, note: str) -> BreakGlassEvent:
    """One of the event's reviewers now (``break_glass_reviewers``) records a review; the
    event is no longer flagged. A reviewer who does not see the case (a partnership
    manager) reviews the event, never the person. The breaker never reviews their own."""
    if not break_glass_may_review(actor, event):
        raise PermissionDenied(_("Only the reviewers of this break-glass review it."))
    if not note.strip():
        raise ValidationError({"note": _("Record what the review found.")})
    with transaction.atomic():
        locked = BreakGlassEvent.objects.select_for_update().get(pk=event.pk)
        if locked.reviewed_at is not None:
            raise IllegalTransition(_("This break-glass was already reviewed."))
        event.reviewed_by, event.reviewed_at = actor, timezone.now()
        event.review_note = note.strip()
        event.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
        record(
            "breakglass.reviewed",
            actor=actor,
            target=event.case,
            detail={"break_glass_id": event.pk, "review_tier": event.review_tier},
        )
    return event


def break_glass_remind_reviewers(*, now: datetime.datetime | None = None) -> int:
    """Beat, hourly: every unreviewed break-glass whose stored tier has emptied moves to
    the tier now holding the duty (stored, audited, its people told within the hour);
    the reviewers of every event unreviewed after BREAK_GLASS_REVIEW_OVERDUE_HOURS are
    told again; an event with nobody left in any tier is told to the system's
    administrators, so that someone appoints a reviewer. Safe to run twice, and every
    hour: the move is a conditional UPDATE, and a reminder's dedup key names the day, so
    each person hears of an event at most once a day. Returns how many overdue events'
    reviewers were reminded."""
    now = now or timezone.now()
    day = timezone.localdate(now).isoformat()
    reminded = 0
    unreviewed = (
        BreakGlassEvent.objects.unreviewed().select_related("case").order_by("opened_at", "pk")
    )
    for event in unreviewed:
        with transaction.atomic():
            reviewers = break_glass_reviewers(event)
            if reviewers.tier is None:
                logger.error(
                    "Break-glass %s has nobody left to review it (every tier is empty).",
                    event.pk,
                )
                _tell_administrators(event, day)
                continue
            overdue = event.is_overdue(now)
            if reviewers.tier != event.review_tier:
                moved = BreakGlassEvent.objects.filter(
                    pk=event.pk, review_tier=event.review_tier, reviewed_at__isnull=True
                ).update(review_tier=reviewers.tier)
                if moved:
                    record(
                        "breakglass.review_moved",
                        actor=None,
                        target=event.case,
                        detail={
                            "break_glass_id": event.pk,
                            "from": event.review_tier,
                            "to": reviewers.tier,
                        },
                    )
                    if not overdue:  # an overdue event's new reviewers hear of it below
                        _tell_reviewers(
                            event,
                            reviewers.people,
                            kind="breakglass.opened",
                            key=f"moved:{reviewers.tier}",
                        )
            if overdue:
                _tell_reviewers(
                    event, reviewers.people, kind="breakglass.overdue", key=f"overdue:{day}"
                )
                reminded += 1
    return reminded


def _tell_administrators(event: BreakGlassEvent, day: str) -> None:
    """Every tier of ``event`` has emptied (the lead agency and its partnerships have
    nobody left to review): the active superusers, who run the system, hear of it once a
    day until someone can review it. The case reference and a link, no names."""
    notify(
        recipients=User.objects.filter(is_superuser=True, is_active=True),
        kind="breakglass.unreviewable",
        target=event,
        message=_("A break-glass on case %(ref)s has nobody left to review it: appoint a reviewer")
        % {"ref": event.case.reference},
        url=reverse("casework:break_glass", args=[event.pk]),
        dedup_key=f"breakglass:{event.pk}:nobody:{day}",
    )


# --- Reading ----------------------------------------------------------------------------


def requests_with_items() -> Any:
    """Evidence requests with what their pages and the API show, loaded at once."""
    return EvidenceAccessRequest.objects.select_related(
        "case", "agency", "requested_by", "decided_by"
    ).prefetch_related(
        Prefetch(
            "items", queryset=EvidenceRequestItem.objects.select_related("document", "note__agency")
        )
    )


def visible_requests(user: Any) -> Any:
    """Requests the user may see: their own, and those on cases they decide for
    (``EvidenceAccessRequest.objects.visible_to``)."""
    return requests_with_items().visible_to(user, DECIDE_EVIDENCE)


def evidence_request_get(user: Any, request_id: Any, **lookup: Any) -> EvidenceAccessRequest:
    """One request the user may see, or 404 (audited when it exists), at both doors."""
    found: EvidenceAccessRequest = access.get_visible_or_404(
        requests_with_items(), user, DECIDE_EVIDENCE, pk=request_id, **lookup
    )
    return found


# Reads of granted material, shown to the lead agency: what an officer holding an
# approval opened on the case (every such read writes one of these audit events).
GRANTED_READS = ("identity.viewed", "notes.viewed", "document.downloaded", "documents.listed")


def granted_reads(case: Case, request: EvidenceAccessRequest | None = None) -> Any:
    """Audit events of the requesting officers' reads on the case since their approval
    (one request's, or every request's on the case). One query, newest first."""
    events = AuditEvent.objects.filter(case_id=case.pk, action__in=GRANTED_READS)
    if request is not None:
        if request.decided_at is None:
            return events.none()
        return events.filter(actor_id=request.requested_by_id, occurred_at__gte=request.decided_at)
    officers = EvidenceAccessRequest.objects.filter(case=case, decided_at__isnull=False).values(
        "requested_by_id"
    )
    return events.filter(actor_id__in=officers).select_related("actor", "actor_agency")


def describe_reads(case: Case, events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """The events with ``what`` in words for the lead agency: which document (by kind and
    date) was downloaded, how many granted notes were read. One query for the documents."""
    events = list(events)
    doc_ids = {e.detail.get("document_id") for e in events if e.action == "document.downloaded"}
    documents = {d.pk: d for d in Document.objects.filter(case=case, pk__in=doc_ids - {None})}
    for event in events:
        if event.action == "document.downloaded":
            document = documents.get(event.detail.get("document_id"))
            event.what = (
                _("Downloaded the %(kind)s uploaded %(date)s")
                % {
                    "kind": document.get_kind_display().lower(),
                    "date": date_format(document.uploaded_at, "j M Y"),
                }
                if document
                else _("Downloaded a document since removed")
            )
        elif event.action == "notes.viewed":
            n = len(event.detail.get("note_ids", []))
            event.what = ngettext("Read %(n)d granted note", "Read %(n)d granted notes", n) % {
                "n": n
            }
        else:
            event.what = {
                "identity.viewed": _("Viewed the identity"),
                "location.viewed": _("Viewed the location"),
                "documents.listed": _("Listed the documents granted"),
            }.get(event.action, event.action)
    return events


def break_glass_reads(event: BreakGlassEvent) -> Any:
    """What the person who broke the glass read on the case while it was open."""
    return AuditEvent.objects.filter(
        case_id=event.case_id,
        actor_id=event.opened_by_id,
        action__in=("identity.viewed", "location.viewed"),
        occurred_at__gte=event.opened_at,
        occurred_at__lte=event.expires_at,
    )


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
    them alone, issue 14 review)."""
    if not access.user_may(actor, RECORD_JUSTICE_OUTCOME):
        raise PermissionDenied(_("Only officers and prosecutors record justice outcomes."))
    justice_outcome_require_agency_sight(actor, case)
    membership = access.require_membership(actor)
    with transaction.atomic():
        outcome = JusticeOutcome(case=case, recorded_by_agency=membership.agency, **fields)
        outcome.full_clean()
        outcome.save()
        record(
            "justice_outcome.recorded",
            actor=actor,
            target=case,
            detail={"outcome_id": outcome.pk, "court_outcome": outcome.court_outcome},
        )
    return outcome
