"""Break-glass: the writes.

Break-glass opens a case's identity and location to one officer or case manager of the
lead agency's partnership for BREAK_GLASS_MINUTES, life being at risk. Its reviewers (the
lead agency's case managers, else its agency admins, else the partnership's managers:
``reads.break_glass_reviewers``) are told at once, and the event stays flagged, on their
task list and reminded daily once overdue, until one of them reviews it; nobody to review,
no opening. Use is limited: a fresh reason within the window, a few openings a day.
"""

from __future__ import annotations

import datetime
import logging
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from agencies import access
from agencies.models import Agency, Membership, Partnership, Role, User
from audit.record import record
from core.errors import IllegalTransition
from notifications.services import notify

from ..audit_actions import CaseAction
from ..models import (
    REVIEW_TIERS,
    BreakGlassEvent,
    BreakGlassGrounds,
    Case,
)
from ..permissions import (
    BREAK_GLASS,
    VIEW_CASE,
    VIEW_IDENTITY,
    VIEW_LOCATION,
)
from .reads import break_glass_may_review, break_glass_reviewers

logger = logging.getLogger(__name__)

BREAK_GLASS_PERMISSIONS = (
    VIEW_CASE,
    VIEW_IDENTITY,
    VIEW_LOCATION,
)


REASON_NEEDED = _lazy("State why a life is at risk.")
GROUNDS_NEEDED = _lazy("Choose the grounds for breaking the glass.")
NO_POWER = _lazy("Only police officers and case managers may break the glass.")
NOBODY_TO_REVIEW = _lazy(
    "Nobody could review this break-glass: the lead agency has no active case manager or "
    "administrator and its partnership no manager. Contact the lead agency directly."
)


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
    make a reason new."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", reason).casefold())
    return "".join(char for char in folded if unicodedata.category(char)[0] in "LN")


# --- Who may, and what they must say ----------------------------------------------------


def break_glass_require_power(actor: Any, case: Case | None = None) -> Membership:
    """May ``actor`` break the glass: an active member of an active agency (else 403,
    asked before any case is looked up, the same for every id) whose role holds
    ``BREAK_GLASS``.

    A role without the power: 403 on the break-glass form (no case named yet); on a named
    case, 403 only to someone who already sees the case, and to everyone else the same
    audited 404 as for a case that does not exist — the status must not tell an analyst
    or a prosecutor whether a case is in their partnership."""
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


# --- Opening ----------------------------------------------------------------------------


class _NobodyToReview(Exception):
    """Raised inside the opening's savepoint: the event and its grant are undone."""


def _limit_refusal(
    actor: User, reason: str, now: datetime.datetime
) -> tuple[str, ValidationError] | None:
    """The use limits, checked with the person's row locked: at most
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
            record(CaseAction.BREAKGLASS_REFUSED, actor=actor, target=case, detail={"why": why})
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
        CaseAction.BREAKGLASS_OPENED,
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


# --- Review -----------------------------------------------------------------------------


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
            CaseAction.BREAKGLASS_REVIEWED,
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
                        CaseAction.BREAKGLASS_REVIEW_MOVED,
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
