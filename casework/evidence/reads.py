"""Evidence requests and break-glass: the reads the pages and the API share.

Scoped through the access engine (``visible_to``, ``get_visible_or_404``), with what the
pages show loaded at once; who reviews a break-glass (``break_glass_reviewers``), and the
audited reads of granted material shown to the lead agency and to reviewers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch
from django.http import Http404
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from agencies import access
from agencies.models import User
from audit.models import AuditEvent

from ..audit_actions import CaseAction
from ..models import (
    REVIEW_TIERS,
    BreakGlassEvent,
    BreakGlassEventQuerySet,
    Case,
    Document,
    EvidenceAccessRequest,
    EvidenceRequestItem,
    break_glass_reviewer_memberships,
)
from ..permissions import (
    DECIDE_EVIDENCE,
    REVIEW_BREAK_GLASS,
)

# --- Evidence requests -----------------------------------------------------------------


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
GRANTED_READS = (
    CaseAction.IDENTITY_VIEWED,
    CaseAction.NOTES_VIEWED,
    CaseAction.DOCUMENT_DOWNLOADED,
    CaseAction.DOCUMENTS_LISTED,
)


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
    doc_ids = {
        e.detail.get("document_id") for e in events if e.action == CaseAction.DOCUMENT_DOWNLOADED
    }
    documents = {d.pk: d for d in Document.objects.filter(case=case, pk__in=doc_ids - {None})}
    for event in events:
        if event.action == CaseAction.DOCUMENT_DOWNLOADED:
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
        elif event.action == CaseAction.NOTES_VIEWED:
            n = len(event.detail.get("note_ids", []))
            event.what = ngettext("Read %(n)d granted note", "Read %(n)d granted notes", n) % {
                "n": n
            }
        else:
            labels: dict[str, str] = {
                CaseAction.IDENTITY_VIEWED: _("Viewed the identity"),
                CaseAction.LOCATION_VIEWED: _("Viewed the location"),
                CaseAction.DOCUMENTS_LISTED: _("Listed the documents granted"),
            }
            event.what = labels.get(event.action, event.action)
    return events


# --- Break-glass -----------------------------------------------------------------------


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


def break_glass_case(case_id: Any) -> Case:
    """The case a break-glass names, whatever the caller sees (the breaker usually sees
    nothing of it yet: ``break_glass.break_glass_open`` decides). A malformed id ("abc", "false",
    "null", "1.5", a number no bigint holds) is the same 404 as a case that does not
    exist, never a 500."""
    text = str(case_id)
    if not (text.isascii() and text.isdigit()) or int(text) > 2**63 - 1:
        raise Http404
    case = Case.objects.select_related("lead_agency").filter(pk=int(text)).first()
    if case is None:
        raise Http404
    return case


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


def break_glass_reads(event: BreakGlassEvent) -> Any:
    """What the person who broke the glass read on the case while it was open."""
    return AuditEvent.objects.filter(
        case_id=event.case_id,
        actor_id=event.opened_by_id,
        action__in=(CaseAction.IDENTITY_VIEWED, CaseAction.LOCATION_VIEWED),
        occurred_at__gte=event.opened_at,
        occurred_at__lte=event.expires_at,
    )
