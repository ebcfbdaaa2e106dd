"""Reads of intelligence that audit: a report, the match inbox, a match.

A report is read only through ``report_get`` and ``report_read``, and a match only
through ``match_open``, so "who has read this report" is complete. A report or match the
user may not read answers ``Http404``, as if it did not exist, and the attempt is audited
(``access.refuse``). The views read operations and visits themselves and record the
events named here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypedDict, cast

from django.http import Http404

from agencies import access
from agencies.models import Agency, Membership
from audit.record import record
from casework.models import Case
from casework.permissions import VIEW_CASE

from . import audience
from .audit_actions import IntelligenceAction
from .models import HandlingCode, IntelligenceReport, Match
from .permissions import VIEW_MATCH, VIEW_REPORT

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


# --- Reports --------------------------------------------------------------------------


def require_readable(actor: Any, report: IntelligenceReport, perm: str = VIEW_REPORT) -> Membership:
    """The actor's membership, when they read ``report`` (a record already in hand);
    otherwise 404 as if it did not exist, the attempt audited (``access.refuse``)."""
    membership = access.active_membership(actor)
    if membership is None or not audience.is_readable(actor, report):
        access.refuse(actor, report, perm)
        raise Http404
    return membership


def report_get(user: Any, pk: Any) -> IntelligenceReport:
    """One report the user may read, or 404 (audited when it exists but is hidden)."""
    return access.get_visible_or_404(
        IntelligenceReport.objects.select_related("originating_agency"), user, VIEW_REPORT, pk=pk
    )


@dataclass(frozen=True)
class ReportReading:
    """What one reader gets of one report, now.

    ``level`` is ``full`` (the originating agency), ``summary`` (another agency), or
    ``conditions`` (another agency, a C report whose current conditions this reader has
    not acknowledged: ``data`` holds the envelope and the conditions, no summary).
    ``data`` holds exactly the fields the reader may see, under the API's names.
    """

    report: IntelligenceReport
    level: Literal["full", "summary", "conditions"]
    data: dict[str, Any]

    @property
    def must_acknowledge(self) -> bool:
        return self.level == "conditions"


def report_read(user: Any, report: IntelligenceReport) -> ReportReading:
    """The audited read of a report: 404 outside its audience; the envelope and the
    conditions only, until a C report's reader acknowledges them; the full text and
    source only in the originating agency. A linked case shows only if the reader can see
    that case. Every read writes an audit event, with the level read."""
    membership = require_readable(user, report)
    if membership.agency_id == report.originating_agency_id:
        level: Literal["full", "summary", "conditions"] = "full"
        names = audience.ALL_FIELDS
    elif audience.must_acknowledge(user, report):
        level, names = "conditions", audience.ENVELOPE_FIELDS
    else:
        level, names = "summary", audience.SUMMARY_FIELDS
    data: dict[str, Any] = {}
    for name in sorted(names):
        if name == "entities":
            data[name] = [
                {"kind": e.kind, "value": e.value} for e in report.entities.order_by("kind", "pk")
            ]
        elif name == "linked_cases":
            data[name] = list(
                report.linked_cases.filter(
                    pk__in=Case.objects.visible_to(user, VIEW_CASE).values("pk")
                ).order_by("reference")
            )
        elif name == "tlp_recipients":
            data[name] = list(report.tlp_recipients.order_by("name"))
        elif name == "grading_changes":
            data[name] = list(report.grading_changes.select_related("changed_by"))
        else:
            data[name] = getattr(report, name)
    record(
        IntelligenceAction.REPORT_VIEWED,
        actor=user,
        target=report,
        detail={"level": level, "conditions_version": report.conditions_version}
        if report.handling_code == HandlingCode.CONDITIONS
        else {"level": level},
    )
    return ReportReading(report=report, level=level, data=data)


# --- Matches --------------------------------------------------------------------------


def matches_listed(user: Any, match_ids: list[int]) -> None:
    """Audit one page of the match inbox, naming the matches given (the page and the API
    alike). The list names no other agency; opening a match is audited on its own."""
    record(IntelligenceAction.MATCHES_LISTED, actor=user, detail={"match_ids": match_ids})


class _ReaderSide(TypedDict):
    """What ``MatchQuerySet.visible_to`` adds to each match, for its reader's side."""

    own_report_id: int
    other_agency_id: int


@dataclass(frozen=True)
class MatchView:
    """One match as its reader sees it when they open it (audited): their report, the
    entity (their own spelling), which side they are, the agency to contact, whether that
    agency was told too, and the other report's id only when this reader may read it.
    Never the other report's title, text or value. The page and the API show exactly
    these fields; the lists show none of the other side."""

    match: Match
    own_report: IntelligenceReport
    own_side: Literal["existing", "new"]
    kind: str
    value: str
    contact_agency: Agency
    other_agency_told: bool
    other_report_id: int | None


def match_open(user: Any, match_id: Any) -> MatchView:
    """One match the user is told of (``Match.objects.visible_to``), or 404 as if it did
    not exist (audited when it exists); the opening is audited."""
    match = cast(
        "WithAnnotations[Match, _ReaderSide]",
        access.get_visible_or_404(Match.objects.all(), user, VIEW_MATCH, pk=match_id),
    )
    own_report = IntelligenceReport.objects.get(pk=match.own_report_id)
    own_side: Literal["existing", "new"] = (
        "existing" if match.own_report_id == match.existing_report_id else "new"
    )
    other_report_id = match.new_report_id if own_side == "existing" else match.existing_report_id
    entity = own_report.entities.filter(kind=match.kind, normalised=match.normalised).first()
    record(
        IntelligenceAction.MATCH_VIEWED,
        actor=user,
        target=match,
        detail={"own_report_id": own_report.pk},
    )
    return MatchView(
        match=match,
        own_report=own_report,
        own_side=own_side,
        kind=match.kind,
        value=entity.value if entity is not None else match.normalised,
        contact_agency=Agency.objects.get(pk=match.other_agency_id),
        other_agency_told=(
            match.new_agency_told if own_side == "existing" else match.existing_agency_told
        ),
        # The agency may read it (or the match would not show); this reader perhaps not
        # (a contributor reads only their own reports).
        other_report_id=other_report_id
        if audience.readable_reports(user).filter(pk=other_report_id).exists()
        else None,
    )
