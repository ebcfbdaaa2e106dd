"""Who may read an intelligence report, as one SQL filter, and how much of it.

The rule (DOMAIN.md, "Intelligence grading"):

1. **Role.** Only roles holding ``intelligence.view_report`` (analysts, officers) read
   intelligence. A contributor role (``intelligence.add_report`` without ``view_report``:
   caseworkers, case managers) reads only the reports they wrote themselves, while they
   still belong to the agency that originated them; a contributor who supervises
   (``intelligence.grade_report``: case managers) also reads their own agency's
   *submitted* reports, to re-grade them (with analysts only in intelligence
   agencies, nobody else in a charity could).
2. **Originating agency.** A reader always reads their own agency's reports, in every
   status (drafts, submitted, archived), in full.
3. **Other agencies** read only *submitted* reports (never drafts or archived reports),
   and only when both allow:

   - the **distribution**: ``agency`` reaches nobody else; ``sharing_group`` reaches the
     members and the owner of the chosen group; ``partnership`` reaches the agencies
     that share a *current* partnership with the originating agency (started, not
     ended: an information-sharing agreement that has lapsed shares nothing); ``all``
     reaches every agency;
   - then the **TLP** narrows it: ``RED`` to the named recipient agencies only (those
     the distribution also reaches); ``AMBER+STRICT`` to the originating agency only;
     ``AMBER``, ``GREEN`` and ``CLEAR`` leave the distribution as it is.

4. What is read: other agencies get the summary level (``SUMMARY_FIELDS``), never
   ``full_text``, ``source_description``, the author, the named recipients, the sharing
   group or the grading history (``FULL_ONLY_FIELDS``). A report with handling code C
   first shows only its envelope (``ENVELOPE_FIELDS``, which include the conditions); the
   summary, entities and linked cases follow once the reader has acknowledged the
   current conditions. A linked case shows only to a reader who can see that case.

5. **An agency that closes** (``Agency.active`` false): the reports it wrote stay
   readable by their audience, as they were distributed. Intelligence does not stop
   being true when its author's agency closes, and nothing else in Concord hides an
   inactive agency's records from the agencies it shared them with. Its own people read
   nothing: without an active membership, a user is in no audience (``access``).

6. **Matches** follow the same rule (clause 3, ``agency_reads``): a side of a match is
   told of it, and sees it, only while its agency may read the other side's report
   (``intelligence.matching``; ``Match.objects.visible_to``).

Superusers get no bypass here: TLP:RED and the source are not platform-admin business.
Nothing is cached: a change of membership, role, partnership or sharing group applies
on the next request.
"""

from __future__ import annotations

import operator
from functools import reduce
from typing import Any

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet

from agencies import access
from agencies.models import Membership, Partnership, SharingGroup

from .models import (
    TLP,
    ConditionsAcknowledgement,
    Distribution,
    HandlingCode,
    IntelligenceReport,
    IntelligenceReportQuerySet,
    ReportStatus,
)
from .permissions import ADD_REPORT, GRADE_REPORT, VIEW_REPORT

# What every reader in the audience sees, before any acknowledgement.
ENVELOPE_FIELDS: frozenset[str] = frozenset(
    {
        "id",
        "title",
        "originating_agency",
        "source_evaluation",
        "intelligence_assessment",
        "handling_code",
        "handling_conditions",
        "tlp",
        "distribution",
        "exploitation_types",
        "area",
        "status",
        "review_on",
        "created_at",
        "submitted_at",
    }
)
# The content that travels: held back from a C report's reader until they acknowledge.
CONTENT_FIELDS: frozenset[str] = frozenset({"summary", "entities", "linked_cases"})
SUMMARY_FIELDS: frozenset[str] = ENVELOPE_FIELDS | CONTENT_FIELDS
# Never outside the originating agency.
FULL_ONLY_FIELDS: frozenset[str] = frozenset(
    {
        "full_text",
        "source_description",
        "author",
        "tlp_recipients",
        "sharing_group",
        "grading_changes",
        "updated_at",
        "archived_at",
    }
)
ALL_FIELDS: frozenset[str] = SUMMARY_FIELDS | FULL_ONLY_FIELDS


# An agency as the audience rule sees it: an id, or a column of an enclosing query
# (``OuterRef("originating_agency_id")``), so that the one rule answers both "which
# reports does this agency read?" and "does the agency of that row read this report?".
AgencyRef = int | OuterRef


def _outer(agency: AgencyRef, levels: int) -> AgencyRef:
    """``agency`` as seen ``levels`` subqueries below the report query: an id is the same
    at every depth; a column of an enclosing query needs one more ``OuterRef`` a level."""
    if isinstance(agency, int):
        return agency
    for _ in range(levels):
        agency = OuterRef(agency)
    return agency


def _groups_of(agency: AgencyRef, levels: int = 1) -> QuerySet[Any]:
    """Sharing groups the agency belongs to or owns (ids)."""
    member_of = SharingGroup.members.through.objects.filter(
        agency_id=_outer(agency, levels + 1)
    ).values("sharinggroup_id")
    return SharingGroup.objects.filter(
        Q(owner_id=_outer(agency, levels)) | Q(pk__in=member_of)
    ).values("pk")


def _partners_of(agency: AgencyRef, levels: int) -> QuerySet[Any]:
    joined = Partnership.agencies.through.objects.filter(
        agency_id=_outer(agency, levels + 2)
    ).values("partnership_id")
    current = Partnership.objects.current().filter(pk__in=joined).values("pk")
    return Partnership.agencies.through.objects.filter(partnership_id__in=current).values(
        "agency_id"
    )


def partner_agency_ids(agency_id: int) -> QuerySet[Any]:
    """Agencies sharing a current partnership with the agency (itself included), as a
    subquery of ids."""
    return _partners_of(agency_id, 0)


def distribution_reaches(agency: AgencyRef) -> Q:
    """Reports whose *distribution* (not narrowed by TLP, any status) reaches the agency."""
    return (
        Q(originating_agency_id=agency)
        | Q(distribution=Distribution.ALL)
        | Q(distribution=Distribution.SHARING_GROUP, sharing_group_id__in=_groups_of(agency))
        | Q(
            distribution=Distribution.PARTNERSHIP,
            originating_agency_id__in=_partners_of(agency, 1),
        )
    )


def _tlp_allows(agency: AgencyRef) -> Q:
    named = IntelligenceReport.tlp_recipients.through.objects.filter(
        agency_id=_outer(agency, 1)
    ).values("intelligencereport_id")
    return Q(tlp__in=[TLP.CLEAR, TLP.GREEN, TLP.AMBER]) | Q(tlp=TLP.RED, pk__in=named)


def agency_reads(agency: AgencyRef) -> Q:
    """Clause 3 of the rule, for one agency: the reports another agency's readers in
    ``agency`` may read (submitted, the distribution reaches it, the TLP allows it).

    ``readable_reports`` is built on it, and so is matching (``intelligence.matching``):
    a side is told of a match, and sees it, only while ``agency_reads`` holds for the
    other side's report. ``agency`` may be an id or ``OuterRef`` to a column of an
    enclosing query (the agency of a candidate report, of a match's side).
    """
    return Q(status=ReportStatus.SUBMITTED) & distribution_reaches(agency) & _tlp_allows(agency)


def readable_reports(
    user: Any, queryset: QuerySet[IntelligenceReport] | None = None
) -> IntelligenceReportQuerySet:
    """The reports ``user`` may read at summary level: one SQL query, subqueries only.

    Lists, search and every single-report read filter through this; see the module
    docstring for the rule.
    """
    base: Any = IntelligenceReport.objects.all() if queryset is None else queryset
    membership = access.active_membership(user)
    if membership is None:
        return base.none()
    agency_id = membership.agency_id
    allowed: list[Q] = []
    if access.role_may(membership.role, VIEW_REPORT):
        allowed.append(Q(originating_agency_id=agency_id))
        allowed.append(agency_reads(agency_id))
    elif access.role_may(membership.role, ADD_REPORT):
        allowed.append(Q(originating_agency_id=agency_id, author_id=user.pk))
        if access.role_may(membership.role, GRADE_REPORT):
            # A supervisor of contributors (a charity's case manager) reads what their own
            # agency has submitted, to re-grade it: never a draft, never a partner's.
            allowed.append(Q(originating_agency_id=agency_id, status=ReportStatus.SUBMITTED))
    if not allowed:
        return base.none()
    return base.filter(reduce(operator.or_, allowed))


def with_reader_state(queryset: QuerySet[IntelligenceReport], user: Any) -> Any:
    """Annotate each row, in the same query, with what a list needs to show it safely:

    - ``reader_is_originating``: the reader's agency wrote it (full text may be shown);
    - ``reader_must_acknowledge``: a C report of another agency whose current conditions
      this reader has not acknowledged, so its summary must not be shown yet.
    """
    membership = access.active_membership(user)
    agency_id = membership.agency_id if membership is not None else None
    acknowledged = ConditionsAcknowledgement.objects.filter(
        report_id=OuterRef("pk"),
        user_id=getattr(user, "pk", None),
        conditions_version=OuterRef("conditions_version"),
    )
    own = Q(originating_agency_id=agency_id)
    return queryset.annotate(
        reader_is_originating=ExpressionWrapper(own, output_field=BooleanField()),
        reader_must_acknowledge=ExpressionWrapper(
            Q(handling_code=HandlingCode.CONDITIONS) & ~own & ~Q(Exists(acknowledged)),
            output_field=BooleanField(),
        ),
    )


def is_readable(user: Any, report: IntelligenceReport) -> bool:
    return readable_reports(user).filter(pk=report.pk).exists()


def _is_originating(membership: Membership | None, report: IntelligenceReport) -> bool:
    return membership is not None and membership.agency_id == report.originating_agency_id


def may_read_full(user: Any, report: IntelligenceReport) -> bool:
    """Full text and source: the originating agency's readers (and the author), only."""
    return _is_originating(access.active_membership(user), report) and is_readable(user, report)


def has_acknowledged(user: Any, report: IntelligenceReport) -> bool:
    """Has ``user`` acknowledged the report's current conditions?"""
    return ConditionsAcknowledgement.objects.filter(
        report=report, user_id=user.pk, conditions_version=report.conditions_version
    ).exists()


def must_acknowledge(user: Any, report: IntelligenceReport) -> bool:
    """A reader outside the originating agency, a C report, current conditions not yet
    acknowledged by this user. (Assumes the report is readable.)"""
    return (
        report.handling_code == HandlingCode.CONDITIONS
        and not _is_originating(access.active_membership(user), report)
        and not has_acknowledged(user, report)
    )


def reader_fields(user: Any, report: IntelligenceReport) -> frozenset[str]:
    """The fields ``user`` gets of ``report`` now: none outside the audience; everything
    in the originating agency; the summary level elsewhere, only the envelope while a C
    report's conditions wait to be acknowledged."""
    if not is_readable(user, report):
        return frozenset()
    if _is_originating(access.active_membership(user), report):
        return ALL_FIELDS
    if must_acknowledge(user, report):
        return ENVELOPE_FIELDS
    return SUMMARY_FIELDS
