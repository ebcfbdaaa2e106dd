"""Matching: reports of different agencies that name the same entity.

When a report is submitted, and whenever a submitted report's entities change, each
of its entities is compared, by kind and normal form, with the entities of the
*submitted* reports of *other* agencies. Matching applies the audience rule of
reading (``audience.agency_reads``: status, distribution *and* TLP), side by side:

- the **submitting agency's side** is told of another agency's report only when the
  submitting agency may read that report;
- the **other agency's side** is told of the new report only when it may read the
  new report (so the owner of a TLP:RED report still learns of a report it may read,
  while the submitter learns nothing of the RED report it is not named on);
- a pair neither side may read makes no ``Match`` at all (the candidate query
  applies the rule in SQL).

Matching is not done in the submitter's request: whatever it found there (a match
row, its audit, a notification of the other side) would make that request slower,
longer in queries and a consumer of ids, in exactly the case where another agency
holds a report the submitter may not read. So the request writes one
``MatchingJob`` (``match_later``): the same statements whatever other reports
exist. After the commit a worker runs ``report_match``: it claims the job, re-checks
that the report is still submitted, matches it against the reports as they are then,
and writes both sides' matches, their audit and their notifications, all in one
transaction with the job marked done. Safe to run twice (the claim; one ``Match``
per pair; a notification's dedup key), and nothing is lost with the broker or the
worker down (beat re-queues a job not done after ``MATCHING_GRACE``). The
submitter's own side, when they may read the other report, appears seconds later.

Each pair of reports and entity makes one ``Match`` (never twice, in either
direction). A side that is told gets one notification per agency and kind of entity
("Another agency has reported on this phone number", with the other agency's
intelligence contact), naming the kind and an agency, never the value, a title or any
text of either report. A side's "agency may read" is the rule for its agency's readers;
within the agency, the match inbox follows ``intelligence.view_match`` (contributors
see matches on their own reports).

Drafts never match (nobody outside the agency reads a draft), nor do archived reports.

When a report's audience later narrows (archived, re-graded, re-distributed), a side
that may no longer read it loses the match: ``Match.objects.visible_to`` checks the
rule again at read time, in SQL, so the match leaves that side's inbox on the next
request whatever narrowed the audience (also a partnership agreement ending, or a
sharing group losing a member, which write nothing here); and the service that
narrowed it withdraws that side's notification (``withdraw_notices``). An email
already sent cannot be withdrawn; it named an agency the side was then allowed to
know of, and its link leads to an inbox that no longer shows the match. Match rows
are kept: the other side may still read, and the trail names them. (A narrowing and
a matching job on the same report take turns: the job holds the rows of the reports
it matches while it runs.)

Reading a match (the inbox, opening one) is in ``intelligence.reads``.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal, TypedDict, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies import access
from agencies.models import Agency, User
from audit.record import record
from core import background
from notifications.services import notifications_withdraw, notify, notify_agency

from . import audience
from .audit_actions import IntelligenceAction
from .models import Entity, EntityKind, IntelligenceReport, Match, MatchingJob, ReportStatus
from .permissions import MATCH_NOTIFIED_ROLES, VIEW_MATCH

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# Where a match notification leads (the inbox the views step mounts at this path).
MATCH_INBOX_URL = "/intelligence/matches/"
# The kind of a match's notifications (what ``withdraw_notices`` takes back).
MATCH_NOTIFICATION = "intelligence.match"


def _entity_word(kind: str) -> str:
    return str(EntityKind(kind).label).lower()


class _ExistingAgency(TypedDict):
    existing_agency: int


class _Sides(TypedDict):
    new_side: bool
    existing_side: bool


def _candidates(
    report: IntelligenceReport, own: list[tuple[str, str]], within: Iterable[int]
) -> list[WithAnnotations[Entity, _Sides]]:
    """The entities of other agencies' submitted reports (among ``within``) that name one
    of ``own`` (kind, normal form), where at least one side may read the other's report;
    one SQL query.

    Each is annotated with ``new_side`` (``report``'s agency may read the candidate's
    report) and ``existing_side`` (the candidate's agency may read ``report``), both by
    ``audience.agency_reads``, the rule of reading. The rule is applied in the query: a
    report neither side may read is never loaded or touched.
    """
    same_entity = Q()
    for kind, normal in own:
        same_entity |= Q(kind=kind, normalised=normal)
    agency_id = report.originating_agency_id
    submitter_reads = IntelligenceReport.objects.filter(
        audience.agency_reads(agency_id), pk=OuterRef("report_id")
    )
    owner_reads = IntelligenceReport.objects.filter(
        audience.agency_reads(OuterRef("report__originating_agency_id")), pk=report.pk
    )
    return list(
        Entity.objects.filter(
            same_entity, report_id__in=list(within), report__status=ReportStatus.SUBMITTED
        )
        .exclude(report__originating_agency_id=agency_id)
        .annotate(new_side=Exists(submitter_reads), existing_side=Exists(owner_reads))
        .filter(Q(new_side=True) | Q(existing_side=True))
        .select_related("report__originating_agency", "report__author")
        .order_by("report_id", "kind", "normalised")
    )


# A job not done this long after it was written has lost its task (the broker was down,
# the web process died before publishing, a worker died mid-run): beat publishes it again.
MATCHING_GRACE = datetime.timedelta(seconds=30)
# The first key of the advisory locks that matching takes per entity (any constant that
# no other lock of Concord's uses; the two-key space of PostgreSQL's advisory locks).
_ENTITY_LOCK_CLASS = 7_140_001


def match_later(*, actor: User, report: IntelligenceReport) -> MatchingJob:
    """Owe ``report`` a matching, done by a worker after the commit (``report_match``).

    One row and one on-commit publish, whatever other reports exist: nothing the
    submitter's request does depends on reports it may not read. The publish is
    a nudge (``core.background``): with the broker down the commit stands, the error is
    logged, and beat publishes the job later (``matching_jobs_to_requeue``).
    """
    from .tasks import match_report  # tasks import this module

    job = MatchingJob.objects.create(report=report, requested_by=actor)
    background.publish_on_commit(match_report, job.pk)
    return job


def _lock_entities(keys: Iterable[tuple[str, str]]) -> None:
    """Hold, until the transaction ends, a lock on each (kind, normal form): two jobs
    whose reports name the same entity take turns, so the second sees the first one's
    matches (and never makes the same pair again the other way round). Taken in one
    global order (the lock ids sorted), before any row lock, so jobs cannot deadlock."""
    lock_ids = sorted(
        {
            int.from_bytes(
                hashlib.blake2b(f"{kind}:{normal}".encode(), digest_size=4).digest(),
                "big",
                signed=True,
            )
            for kind, normal in keys
        }
    )
    with connection.cursor() as cursor:
        for lock_id in lock_ids:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_ENTITY_LOCK_CLASS, lock_id])


def report_match(*, job_id: int) -> list[Match]:
    """Do one matching job (``MatchingJob``): match its report against the reports as
    they are now, under the audience rule, side by side (see the module docstring), and
    mark the job done, all in one transaction. Returns the new matches.

    Run by a worker (``tasks.match_report``), never in a user's request. Idempotent and
    safe to run twice at once: the job is claimed under a row lock (a second run skips
    it, or finds it done); a pair of reports and an entity makes one ``Match``; each
    notification has a dedup key. A worker killed half way rolls everything back and the
    job is run again (its message redelivered, or beat re-queues it).

    A report no longer submitted (archived before the job ran) is not matched. The report
    and the candidate reports are locked while the job runs, so a write that narrows one
    of them (archive, re-grade, re-distribution) waits for the job and then withdraws
    what it told, or the job sees the narrowed audience.
    """
    with transaction.atomic():
        job = (
            MatchingJob.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("report", "requested_by")
            .filter(pk=job_id, done_at__isnull=True)
            .first()
        )
        if job is None:
            return []  # done already, gone, or being done by another worker
        created = _match_job(job)
        job.done_at = timezone.now()
        job.save(update_fields=["done_at"])
    return created


def _match_job(job: MatchingJob) -> list[Match]:
    keys = set(Entity.objects.filter(report_id=job.report_id).values_list("kind", "normalised"))
    if not keys:
        return []
    _lock_entities(keys)
    same_entity = Q()
    for kind, normal in keys:
        same_entity |= Q(kind=kind, normalised=normal)
    others = set(
        Entity.objects.filter(same_entity, report__status=ReportStatus.SUBMITTED)
        .exclude(report__originating_agency_id=job.report.originating_agency_id)
        .values_list("report_id", flat=True)
    )
    # Row locks in one order (by id), after the entity locks: see _lock_entities.
    locked = list(
        IntelligenceReport.objects.select_for_update()
        .filter(pk__in=[job.report_id, *others])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    report = IntelligenceReport.objects.select_related("originating_agency").get(pk=job.report_id)
    if report.status != ReportStatus.SUBMITTED:
        return []
    # The entities as they are now; one added since the locks were taken is another
    # job's (the change that added it wrote one).
    own = sorted(set(report.entities.values_list("kind", "normalised")) & keys)
    if not own:
        return []
    return _match(actor=job.requested_by, report=report, own=own, within=locked)


def _match(
    *, actor: User, report: IntelligenceReport, own: list[tuple[str, str]], within: list[int]
) -> list[Match]:
    """Match the submitted ``report``'s entities ``own`` against the other agencies'
    submitted reports among ``within``, side by side under the audience rule; create the
    matches and tell each side that may read the other report (see the module
    docstring). ``actor`` is who submitted the report or changed its entities. Returns
    the new matches."""
    candidates = _candidates(report, own, within)
    if not candidates:
        return []
    others = {e.report_id for e in candidates}
    # A pair already matched the other way round (the other report named it later).
    reverse = set(
        Match.objects.filter(new_report_id__in=others, existing_report=report).values_list(
            "new_report_id", "kind", "normalised"
        )
    )
    created: list[Match] = []
    for entity in candidates:
        if (entity.report_id, entity.kind, entity.normalised) in reverse:
            continue
        match, new = Match.objects.get_or_create(
            new_report=report,
            existing_report=entity.report,
            kind=entity.kind,
            normalised=entity.normalised,
            defaults={
                "existing_agency_told": entity.existing_side,
                "new_agency_told": entity.new_side,
            },
        )
        if not new:
            continue
        created.append(match)
        record(
            IntelligenceAction.MATCH_CREATED,
            actor=actor,
            target=match,
            detail={
                "new_report_id": report.pk,
                "existing_report_id": entity.report_id,
                "kind": entity.kind,
                "existing_agency_told": match.existing_agency_told,
                "new_agency_told": match.new_agency_told,
            },
        )
    _tell(actor=actor, report=report, matches=created, candidates=candidates)
    return created


def matching_jobs_to_requeue(*, limit: int = 500) -> list[int]:
    """Ids of jobs not done ``MATCHING_GRACE`` after they were written, oldest first:
    their task was lost (beat publishes them again: ``tasks.requeue_matching``)."""
    return list(
        MatchingJob.objects.filter(
            done_at__isnull=True, created_at__lt=timezone.now() - MATCHING_GRACE
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def matching_jobs_purge(*, limit: int = 5000) -> int:
    """Delete jobs done longer ago than MATCHING_JOB_RETENTION_DAYS (at most ``limit``):
    they answer "when was this report matched?"."""
    cutoff = timezone.now() - datetime.timedelta(days=settings.MATCHING_JOB_RETENTION_DAYS)
    old = MatchingJob.objects.filter(done_at__lt=cutoff).values_list("pk", flat=True)[:limit]
    deleted, _by_model = MatchingJob.objects.filter(pk__in=list(old)).delete()
    return deleted


def _notice_key(match: Match, existing_agency_id: int, side: Literal["existing", "new"]) -> str:
    """The dedup key of one side's notification of ``match`` (one per new report, other
    agency and kind of entity: ``_tell``)."""
    key = f"intelligence-match:{match.new_report_id}:{existing_agency_id}:{match.kind}"
    return key if side == "existing" else f"{key}:submitter"


def withdraw_notices(*, actor: User, report: IntelligenceReport) -> None:
    """After ``report``'s audience narrowed (archived, re-graded, re-distributed): a side
    that was told of a match because it read ``report``, and may no longer read it, loses
    its notification of it and stops being told (its ``*_agency_told`` flag is cleared),
    and the trail says so. (The match would leave that side's inbox anyway:
    ``Match.objects.visible_to`` checks the rule at read time.)

    A side's notification covers every match of one new report with one agency's reports
    on one kind of entity; the submitter's is kept while another of them is still theirs
    to see. A handful of queries, run only by the originating agency's own writes.
    """

    def reads_report(side_agency: str) -> Exists:
        return Exists(
            IntelligenceReport.objects.filter(
                audience.agency_reads(OuterRef(side_agency)), pk=report.pk
            )
        )

    # ``report`` as the new report: the existing reports' agencies were told of it.
    # The plugin types the annotation, but MatchQuerySet iterates as plain Match rows.
    lost_existing = cast(
        "list[WithAnnotations[Match, _ExistingAgency]]",
        list(
            Match.objects.filter(new_report=report, existing_agency_told=True)
            .exclude(reads_report("existing_report__originating_agency_id"))
            .annotate(existing_agency=F("existing_report__originating_agency_id"))
        ),
    )
    # ``report`` as the existing report: the new reports' submitters were told of it.
    lost_new = list(
        Match.objects.filter(existing_report=report, new_agency_told=True).exclude(
            reads_report("new_report__originating_agency_id")
        )
    )
    agency_id = report.originating_agency_id
    still_seen: set[tuple[int, str]] = set()
    if lost_new:
        # Another report of this agency, on the same kind, that the submitter still reads.
        submitter_reads = IntelligenceReport.objects.filter(
            audience.agency_reads(OuterRef("new_report__originating_agency_id")),
            pk=OuterRef("existing_report_id"),
        )
        still_seen = set(
            Match.objects.filter(
                Exists(submitter_reads),
                new_report_id__in={m.new_report_id for m in lost_new},
                existing_report__originating_agency_id=agency_id,
                new_agency_told=True,
            )
            .exclude(existing_report=report)
            .values_list("new_report_id", "kind")
        )
    keys = {_notice_key(m, m.existing_agency, "existing") for m in lost_existing}
    keys |= {
        _notice_key(m, agency_id, "new")
        for m in lost_new
        if (m.new_report_id, m.kind) not in still_seen
    }
    notifications_withdraw(kind=MATCH_NOTIFICATION, dedup_keys=keys)
    # The side is no longer told: it does not see the match again if the report is
    # later widened (it would be a match it was never notified of), and a second
    # narrowing finds nothing more to withdraw.
    Match.objects.filter(pk__in=[m.pk for m in lost_existing]).update(existing_agency_told=False)
    Match.objects.filter(pk__in=[m.pk for m in lost_new]).update(new_agency_told=False)
    for side, matches in (("existing", lost_existing), ("new", lost_new)):
        for match in matches:
            record(
                IntelligenceAction.MATCH_WITHDRAWN,
                actor=actor,
                target=match,
                detail={"side": side, "report_id": report.pk, "report_status": report.status},
            )


def _contact_route(agency: Agency) -> str:
    """The agency and its intelligence mailbox (a team address, never a person's)."""
    if agency.intelligence_contact:
        return f"{agency.name} ({agency.intelligence_contact})"
    return agency.name


def _tell(
    *,
    actor: User,
    report: IntelligenceReport,
    matches: list[Match],
    candidates: Sequence[Entity],
) -> None:
    """One notification per agency and kind of entity on each side that was told (its
    agency may read the other report), naming only the kind and the agency to contact."""
    existing = {e.report_id: e.report for e in candidates}
    told_existing: dict[tuple[int, str], Match] = {}
    told_new: dict[tuple[int, str], Match] = {}
    for match in matches:
        other = existing[match.existing_report_id]
        if match.existing_agency_told:
            told_existing.setdefault((other.originating_agency_id, match.kind), match)
        if match.new_agency_told:
            told_new.setdefault((other.originating_agency_id, match.kind), match)

    for (agency_id, kind), match in told_existing.items():
        other = existing[match.existing_report_id]
        message = _("Another agency has reported on this %(entity)s. Contact: %(agency)s.") % {
            "entity": _entity_word(kind),
            "agency": _contact_route(report.originating_agency),
        }
        dedup_key = _notice_key(match, agency_id, "existing")
        notify_agency(
            agency=other.originating_agency,
            roles=MATCH_NOTIFIED_ROLES,
            kind=MATCH_NOTIFICATION,
            target=match,
            message=message,
            url=MATCH_INBOX_URL,
            dedup_key=dedup_key,
        )
        author = other.author
        author_membership = access.active_membership(author)
        if (
            author_membership is not None
            and author_membership.agency_id == agency_id
            and access.role_may(author_membership.role, VIEW_MATCH)
        ):
            # The same key: an analyst author is told once.
            notify(
                recipients=[author],
                kind=MATCH_NOTIFICATION,
                target=match,
                message=message,
                url=MATCH_INBOX_URL,
                dedup_key=dedup_key,
            )

    for (agency_id, kind), match in told_new.items():
        other = existing[match.existing_report_id]
        notify(
            recipients=[actor],
            kind=MATCH_NOTIFICATION,
            target=match,
            message=_("Another agency has reported on this %(entity)s. Contact: %(agency)s.")
            % {"entity": _entity_word(kind), "agency": _contact_route(other.originating_agency)},
            url=MATCH_INBOX_URL,
            dedup_key=_notice_key(match, agency_id, "new"),
        )
