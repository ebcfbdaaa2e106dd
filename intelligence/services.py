"""Every write of the intelligence app, and the audited read of a report.

Each service checks its rule, changes state in one transaction, writes the audit event
and queues notifications on commit (``notifications.services``). A report the actor may
not read answers ``Http404`` (and the attempt is audited); one they may read but not
change answers ``PermissionDenied``; bad input is a ``ValidationError`` with field errors.

Reports
    Written by contributors (``intelligence.add_report``: analysts, officers, caseworkers,
    case managers) for their own agency, as drafts. The originating agency changes them
    while they are drafts or submitted, never once archived (``report_update``). A
    submitted report's grading, and the agencies named to read it at TLP:RED, change
    only through ``report_regrade``, by a role that grades, with a reason kept in
    ``GradingChange``; a draft's grading is simply edited (a draft is not re-graded).
    Status moves draft → submitted → archived (a draft may also be archived, i.e.
    abandoned).

Matching (issue 7, item 2; issue 14, item 3)
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
    ``MatchingJob`` (``_match_later``): the same statements whatever other reports
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
    narrowed it withdraws that side's notification (``_withdraw_notices``). An email
    already sent cannot be withdrawn; it named an agency the side was then allowed to
    know of, and its link leads to an inbox that no longer shows the match. Match rows
    are kept: the other side may still read, and the trail names them. (A narrowing and
    a matching job on the same report take turns: the job holds the rows of the reports
    it matches while it runs.)

Operations and premises visits
    An operation is led by the creator's agency with partner agencies; visits are
    recorded by members of the lead or partner agencies (or outside any operation, seen
    by the recording agency alone). From a visit, ``visit_start_case`` and
    ``visit_start_report`` return the initial data of the case or report form, and
    ``visit_link`` records the case or report made from it.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies import access
from agencies.errors import IllegalTransition
from agencies.models import Agency, AgencyKind, Membership, SharingGroup, User
from audit import actions
from audit.record import record
from casework.models import Case, ExploitationType, HowIdentified
from casework.permissions import ADD_CASE, VIEW_CASE
from notifications.services import notifications_withdraw, notify, notify_agency

from . import audience
from .entities import is_postcode_district, normalise
from .models import (
    MAX_WORKERS_PRESENT,
    TLP,
    ConditionsAcknowledgement,
    Distribution,
    Entity,
    EntityKind,
    GradingChange,
    HandlingCode,
    Indicator,
    IntelligenceAssessment,
    IntelligenceReport,
    Match,
    MatchingJob,
    Operation,
    PremisesType,
    PremisesVisit,
    ReportStatus,
    SourceEvaluation,
    VisitOutcome,
)
from .permissions import (
    ADD_OPERATION,
    ADD_REPORT,
    ADD_VISIT,
    GRADE_REPORT,
    MATCH_NOTIFIED_ROLES,
    VIEW_MATCH,
    VIEW_OPERATION,
    VIEW_REPORT,
)

# A report is reviewed a year after it is written unless its author says otherwise.
DEFAULT_REVIEW_PERIOD = datetime.timedelta(days=365)
# Where a match notification leads (the inbox the views step mounts at this path).
MATCH_INBOX_URL = "/intelligence/matches/"
# The kind of a match's notifications (what ``_withdraw_notices`` takes back).
MATCH_NOTIFICATION = "intelligence.match"

# The fields of a report a writer sets (the API's names, issue 7 item 6).
REPORT_FIELDS = (
    "title",
    "summary",
    "full_text",
    "source_description",
    "source_evaluation",
    "intelligence_assessment",
    "handling_code",
    "handling_conditions",
    "tlp",
    "tlp_recipients",
    "distribution",
    "sharing_group",
    "exploitation_types",
    "area",
    "review_on",
    "linked_cases",
    "entities",
)
# Changed on a submitted report only by a re-grade (with a reason and history).
GRADING_FIELDS = (
    "source_evaluation",
    "intelligence_assessment",
    "handling_code",
    "handling_conditions",
    "tlp",
)
# The fields that decide who reads a report (with its status): when they change on a
# submitted report, the sides that may no longer read it lose their match notifications.
AUDIENCE_FIELDS = ("distribution", "sharing_group", "tlp", "tlp_recipients")
_TEXT_FIELDS = ("title", "summary", "full_text", "source_description", "handling_conditions")


# --- Access helpers -------------------------------------------------------------------


def _require_readable(
    actor: Any, report: IntelligenceReport, perm: str = VIEW_REPORT
) -> Membership:
    """The actor's membership, when they read ``report`` (a record already in hand);
    otherwise 404 as if it did not exist, the attempt audited (``access.refuse``)."""
    membership = access.active_membership(actor)
    if membership is None or not audience.is_readable(actor, report):
        access.refuse(actor, report, perm)
        raise Http404
    return membership


def as_id(value: Any) -> int | None:
    """An id from a URL or a form, or None when it is not one. ASCII digits only:
    ``"²".isdigit()`` is true, but ``int("²")`` fails."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() else None


def report_get(user: Any, pk: Any) -> IntelligenceReport:
    """One report the user may read, or 404 (audited when it exists but is hidden)."""
    return access.get_visible_or_404(
        IntelligenceReport.objects.select_related("originating_agency"), user, VIEW_REPORT, pk=pk
    )


def require_editor(actor: Any, report: IntelligenceReport) -> Membership:
    """The originating agency's contributors who may read the report change it."""
    membership = _require_readable(actor, report, ADD_REPORT)
    if membership.agency_id != report.originating_agency_id or not access.role_may(
        membership.role, ADD_REPORT
    ):
        record(actions.FORBIDDEN, actor=actor, target=report, detail={"permission": ADD_REPORT})
        raise PermissionDenied(_("Only the originating agency may change this report."))
    if report.status == ReportStatus.ARCHIVED:
        raise IllegalTransition(_("An archived report cannot be changed."))
    return membership


def _require_contributor(actor: Any) -> Membership:
    membership = access.require_membership(actor)
    if not access.role_may(membership.role, ADD_REPORT):
        raise PermissionDenied(
            _("Only analysts, officers, caseworkers and case managers write intelligence.")
        )
    return membership


# --- Validating what a writer sends ---------------------------------------------------


@dataclass
class _Plan:
    """Relations to write once the report row is saved (None: leave as they are)."""

    recipients: list[Agency] | None = None
    cases: list[Case] | None = None
    entities: list[tuple[str, str, str]] | None = None  # (kind, value, normalised)
    changed: list[str] = field(default_factory=list)


def _ids(values: Any, name: str) -> list[int]:
    """Records or their ids, as ids; anything else is the writer's mistake (a 400)."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        values = [values]
    ids = []
    for value in values:
        given = getattr(value, "pk", value)
        pk = as_id(given)
        if pk is None:
            raise ValidationError({name: _("“%(value)s” is not an id.") % {"value": given}})
        ids.append(pk)
    return ids


def tlp_recipients_differ(report: IntelligenceReport, wanted: Iterable[Any]) -> bool:
    """Would ``wanted`` (agencies or their ids) change the report's named recipients?"""
    current = set(report.tlp_recipients.values_list("pk", flat=True))
    return set(_ids(list(wanted), "tlp_recipients")) != current


def _distribution_reaches(report: IntelligenceReport, agency: Agency) -> bool:
    """Does the (possibly unsaved) report's distribution reach ``agency``?"""
    if report.distribution == Distribution.ALL:
        return True
    if report.distribution == Distribution.SHARING_GROUP and report.sharing_group is not None:
        group = report.sharing_group
        return group.owner_id == agency.pk or group.members.filter(pk=agency.pk).exists()
    if report.distribution == Distribution.PARTNERSHIP:
        return (
            audience.partner_agency_ids(report.originating_agency_id)
            .filter(agency_id=agency.pk)
            .exists()
        )
    return False


def _clean_entities(raw: Any, region: str) -> list[tuple[str, str, str]]:
    """``[{"kind": ..., "value": ...}]`` → (kind, value, normalised), one per normal form."""
    if not isinstance(raw, list | tuple):
        raise ValidationError(
            {"entities": _('Send a list of {"kind": ..., "value": ...} entries.')}
        )
    cleaned: dict[tuple[str, str], tuple[str, str, str]] = {}
    problems: list[str] = []
    for position, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping) or set(item) != {"kind", "value"}:
            problems.append(
                _('Entity %(n)d: write it as {"kind": ..., "value": ...}.') % {"n": position}
            )
            continue
        kind, value = item["kind"], item["value"]
        try:
            normal = normalise(kind, value, region=region)
        except ValidationError as error:
            problems.append(
                _("Entity %(n)d: %(problem)s")
                % {"n": position, "problem": " ".join(error.messages)}
            )
            continue
        cleaned.setdefault((kind, normal), (kind, value.strip(), normal))
    if problems:
        raise ValidationError({"entities": problems})
    return list(cleaned.values())


_RELATIONS = ("tlp_recipients", "linked_cases", "entities")


def _scalars(report: IntelligenceReport) -> dict[str, Any]:
    values = {
        n: getattr(report, n) for n in REPORT_FIELDS if n not in (*_RELATIONS, "sharing_group")
    }
    values["sharing_group"] = report.sharing_group_id
    return values


def _apply(
    *,
    actor: Any,
    membership: Membership,
    report: IntelligenceReport,
    fields: dict[str, Any],
    creating: bool,
) -> _Plan:
    """Set ``fields`` on ``report`` (unsaved), validate everything, and say what else to
    write. Raises one ValidationError with every field's problem."""
    unknown = set(fields) - set(REPORT_FIELDS)
    if unknown:
        raise ValueError(f"not report fields: {sorted(unknown)}")
    errors: dict[str, Any] = {}
    plan = _Plan()
    before = _scalars(report)

    for name in _TEXT_FIELDS:
        if name in fields:
            setattr(report, name, (fields[name] or "").strip())
    for name in ("source_evaluation", "intelligence_assessment", "handling_code", "tlp"):
        if name in fields:
            setattr(report, name, fields[name])
    if (
        "handling_code" in fields
        and "handling_conditions" not in fields
        and report.handling_code == HandlingCode.PERMITTED
    ):
        report.handling_conditions = ""

    if "distribution" in fields:
        report.distribution = fields["distribution"]
        if "sharing_group" not in fields and report.distribution != Distribution.SHARING_GROUP:
            report.sharing_group = None
    if "sharing_group" in fields:
        group = fields["sharing_group"]
        if group is None or group == "":
            report.sharing_group = None
        else:
            visible = SharingGroup.objects.for_agency(membership.agency)
            found = visible.filter(pk=_ids(group, "sharing_group")[0]).first()
            if found is None:
                errors["sharing_group"] = _(
                    "Choose a sharing group your agency owns or belongs to."
                )
            else:
                report.sharing_group = found

    if "exploitation_types" in fields:
        types = list(fields["exploitation_types"] or [])
        bad = [str(t) for t in types if t not in ExploitationType.values]
        if bad:
            errors["exploitation_types"] = _("Unknown exploitation type: %s") % ", ".join(bad)
        else:
            report.exploitation_types = sorted(set(types))

    if "area" in fields:
        area = " ".join((fields["area"] or "").split())
        report.area = area.upper() if is_postcode_district(area) else area

    today = timezone.localdate()
    if "review_on" in fields and fields["review_on"] is not None:
        review_on = fields["review_on"]
        if not isinstance(review_on, datetime.date):
            errors["review_on"] = _("Give the review date as a date.")
        elif review_on < today and review_on != before.get("review_on"):
            errors["review_on"] = _("The review date cannot be in the past.")
        else:
            report.review_on = review_on
    elif creating:
        report.review_on = today + DEFAULT_REVIEW_PERIOD

    # Named recipients go with TLP:RED, and only within the distribution.
    if report.tlp != TLP.RED:
        if fields.get("tlp_recipients"):
            errors["tlp_recipients"] = _("Name recipient agencies only for TLP:RED.")
        elif not creating and report.pk is not None and report.tlp_recipients.exists():
            plan.recipients = []
    else:
        if "tlp_recipients" in fields:
            wanted = _ids(fields["tlp_recipients"] or [], "tlp_recipients")
            recipients = list(Agency.objects.filter(pk__in=wanted, active=True))
        elif report.pk is not None:
            recipients = list(report.tlp_recipients.all())
        else:
            recipients = []
        if "tlp_recipients" in fields and len(recipients) != len(set(wanted)):
            errors["tlp_recipients"] = _("Name active agencies on Concord only.")
        elif not recipients:
            errors["tlp_recipients"] = _("Name the agencies that may read a TLP:RED report.")
        elif any(agency.pk == membership.agency_id for agency in recipients):
            errors["tlp_recipients"] = _(
                "Your own agency always reads its reports: name only other agencies."
            )
        elif "sharing_group" not in errors:
            outside = sorted(a.name for a in recipients if not _distribution_reaches(report, a))
            if outside:
                errors["tlp_recipients"] = _(
                    "The distribution does not reach %(agencies)s: widen the distribution "
                    "or name other agencies."
                ) % {"agencies": ", ".join(outside)}
        if "tlp_recipients" not in errors and ("tlp_recipients" in fields or report.pk is None):
            plan.recipients = recipients

    if "linked_cases" in fields:
        wanted_cases = _ids(fields["linked_cases"] or [], "linked_cases")
        seen_cases = Case.objects.visible_to(actor, VIEW_CASE)
        cases = list(seen_cases.filter(pk__in=wanted_cases))
        if len(cases) != len(set(wanted_cases)):
            errors["linked_cases"] = _("You can link only cases you can see.")
        else:
            # Links a colleague made to cases this writer cannot see were never shown to
            # them, so their list cannot have meant to remove them.
            kept = report.linked_cases.exclude(pk__in=seen_cases.values("pk")) if report.pk else []
            plan.cases = [*cases, *kept]

    if "entities" in fields:
        try:
            plan.entities = _clean_entities(fields["entities"] or [], membership.agency.country)
        except ValidationError as error:
            errors.update(error.message_dict)

    if not report.title:
        errors.setdefault("title", _("Give the report a title."))
    try:
        # The check constraints say what clean() says, field by field.
        report.full_clean(
            exclude=[*errors, "author", "originating_agency"], validate_constraints=False
        )
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, messages)
    if errors:
        raise ValidationError(errors)

    after = _scalars(report)
    plan.changed = sorted(
        {n for n in after if before[n] != after[n]}
        | {n for n in ("tlp_recipients", "linked_cases", "entities") if n in fields}
    )
    return plan


def _write_relations(report: IntelligenceReport, plan: _Plan) -> None:
    if plan.recipients is not None:
        report.tlp_recipients.set(plan.recipients)
    if plan.cases is not None:
        report.linked_cases.set(plan.cases)
    if plan.entities is not None:
        report.entities.all().delete()
        Entity.objects.bulk_create(
            [
                Entity(report=report, kind=kind, value=value, normalised=normal)
                for kind, value, normal in plan.entities
            ]
        )


# --- Reports --------------------------------------------------------------------------


def report_create(
    *,
    actor: User,
    title: str,
    source_evaluation: str,
    intelligence_assessment: str,
    handling_code: str,
    tlp: str,
    distribution: str,
    summary: str = "",
    full_text: str = "",
    source_description: str = "",
    handling_conditions: str = "",
    tlp_recipients: Iterable[Any] = (),
    sharing_group: Any = None,
    exploitation_types: Iterable[str] = (),
    area: str = "",
    review_on: datetime.date | None = None,
    linked_cases: Iterable[Any] = (),
    entities: Iterable[Mapping[str, Any]] = (),
) -> IntelligenceReport:
    """Write a draft report for the actor's agency (contributors only).

    The review date defaults to a year ahead. Named recipients go with TLP:RED and must be
    within the distribution; a sharing group must be one the agency owns or belongs to;
    linked cases must be cases the actor can see; entities are normalised (see
    ``intelligence.entities``). Nothing is matched or shared until it is submitted.
    """
    membership = _require_contributor(actor)
    report = IntelligenceReport(
        originating_agency=membership.agency, author=actor, status=ReportStatus.DRAFT
    )
    plan = _apply(
        actor=actor,
        membership=membership,
        report=report,
        creating=True,
        fields={
            "title": title,
            "summary": summary,
            "full_text": full_text,
            "source_description": source_description,
            "source_evaluation": source_evaluation,
            "intelligence_assessment": intelligence_assessment,
            "handling_code": handling_code,
            "handling_conditions": handling_conditions,
            "tlp": tlp,
            "tlp_recipients": list(tlp_recipients),
            "distribution": distribution,
            "sharing_group": sharing_group,
            "exploitation_types": list(exploitation_types),
            "area": area,
            "review_on": review_on,
            "linked_cases": list(linked_cases),
            "entities": list(entities),
        },
    )
    with transaction.atomic():
        report.save()
        _write_relations(report, plan)
        record(
            "intelligence.report_created",
            actor=actor,
            target=report,
            detail={"grading": report.grading, "tlp": report.tlp, "entities": _kinds(plan)},
        )
    return report


def _kinds(plan: _Plan) -> list[str]:
    return sorted(kind for kind, _value, _normal in plan.entities or [])


def _locked(report: IntelligenceReport) -> IntelligenceReport:
    """Re-read the report under a row lock, so two writers cannot interleave."""
    return IntelligenceReport.objects.select_for_update().get(pk=report.pk)


def report_update(*, actor: User, report: IntelligenceReport, **fields: Any) -> IntelligenceReport:
    """Change a draft or submitted report (the originating agency only).

    A submitted report's grading and named recipients change only through
    ``report_regrade`` (a reason, the history, a role that grades): naming another
    agency widens who reads a TLP:RED report as surely as a new colour does. When a
    submitted report's entities change, they are matched again.
    """
    membership = require_editor(actor, report)
    if report.status == ReportStatus.SUBMITTED:
        regraded = [
            name
            for name in GRADING_FIELDS
            if name in fields and fields[name] != getattr(report, name)
        ]
        if "tlp_recipients" in fields and tlp_recipients_differ(
            report, fields["tlp_recipients"] or []
        ):
            regraded.append("tlp_recipients")
        if regraded:
            raise ValidationError(
                {
                    name: _("Re-grade a submitted report, with a reason, to change this.")
                    for name in regraded
                }
            )
    with transaction.atomic():
        report = _locked(report)
        plan = _apply(
            actor=actor, membership=membership, report=report, fields=fields, creating=False
        )
        if not plan.changed:
            return report
        report.save()
        _write_relations(report, plan)
        record(
            "intelligence.report_updated",
            actor=actor,
            target=report,
            detail={"fields": plan.changed},
        )
        if report.status == ReportStatus.SUBMITTED and plan.entities is not None:
            _match_later(actor=actor, report=report)
        if report.status == ReportStatus.SUBMITTED and set(plan.changed) & set(AUDIENCE_FIELDS):
            _withdraw_notices(actor=actor, report=report)
    return report


def report_submit(*, actor: User, report: IntelligenceReport) -> IntelligenceReport:
    """Draft → submitted: the report reaches its audience, and its entities are matched."""
    require_editor(actor, report)
    with transaction.atomic():
        report = _locked(report)
        if report.status != ReportStatus.DRAFT:
            raise IllegalTransition(_("Only a draft can be submitted."))
        if not report.summary.strip():
            raise ValidationError(
                {"summary": _("Write the sanitised summary other agencies will read.")}
            )
        report.status = ReportStatus.SUBMITTED
        report.submitted_at = timezone.now()
        report.submitted_by = actor
        report.save(update_fields=["status", "submitted_at", "submitted_by", "updated_at"])
        record(
            "intelligence.report_submitted",
            actor=actor,
            target=report,
            detail={
                "grading": report.grading,
                "tlp": report.tlp,
                "distribution": report.distribution,
            },
        )
        _match_later(actor=actor, report=report)
    return report


def report_archive(
    *, actor: User, report: IntelligenceReport, reason: str = ""
) -> IntelligenceReport:
    """Draft or submitted → archived: it leaves every other agency's view; the originating
    agency keeps it, read-only."""
    require_editor(actor, report)
    with transaction.atomic():
        report = _locked(report)
        if report.status == ReportStatus.ARCHIVED:
            raise IllegalTransition(_("The report is archived already."))
        previous = report.status
        report.status = ReportStatus.ARCHIVED
        report.archived_at = timezone.now()
        report.save(update_fields=["status", "archived_at", "updated_at"])
        record(
            "intelligence.report_archived",
            actor=actor,
            target=report,
            detail={"from": previous, "reason": reason.strip()},
        )
        if previous == ReportStatus.SUBMITTED:
            # No other agency reads it now: the sides told of a match because they read
            # it lose their notification (and the match, at read time).
            _withdraw_notices(actor=actor, report=report)
    return report


def report_regrade(
    *,
    actor: User,
    report: IntelligenceReport,
    reason: str,
    source_evaluation: str | None = None,
    intelligence_assessment: str | None = None,
    handling_code: str | None = None,
    handling_conditions: str | None = None,
    tlp: str | None = None,
    tlp_recipients: Iterable[Any] | None = None,
) -> GradingChange:
    """Change a submitted report's grading, keeping what it was and why (originating
    agency only).

    Only analysts, officers and case managers of the originating agency re-grade. Arguments
    left as None keep their value. Moving to P drops the conditions; new conditions must
    be acknowledged again by every reader; leaving TLP:RED drops the named recipients;
    moving to it needs them. A draft is refused: nobody outside the agency has read it,
    so its grading is simply edited, with no history to keep.
    """
    membership = require_editor(actor, report)
    if not access.role_may(membership.role, GRADE_REPORT):
        raise PermissionDenied(
            _("Only analysts, officers and case managers of the originating agency re-grade.")
        )
    if report.status == ReportStatus.DRAFT:
        raise IllegalTransition(
            _("A draft is not re-graded: edit the draft instead, grading and all.")
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the grading changes.")})
    wanted = {
        name: value
        for name, value in {
            "source_evaluation": source_evaluation,
            "intelligence_assessment": intelligence_assessment,
            "handling_code": handling_code,
            "handling_conditions": handling_conditions,
            "tlp": tlp,
        }.items()
        if value is not None
    }
    if tlp_recipients is not None:
        wanted["tlp_recipients"] = list(tlp_recipients)
    with transaction.atomic():
        report = _locked(report)
        old = {name: getattr(report, name) for name in GRADING_FIELDS}
        old_recipients = sorted(report.tlp_recipients.values_list("pk", flat=True))
        plan = _apply(
            actor=actor, membership=membership, report=report, fields=wanted, creating=False
        )
        new = {name: getattr(report, name) for name in GRADING_FIELDS}
        new_recipients = (
            sorted(a.pk for a in plan.recipients) if plan.recipients is not None else old_recipients
        )
        if old == new and old_recipients == new_recipients:
            raise ValidationError({"__all__": _("That is the grading the report has already.")})
        if old["handling_conditions"] != new["handling_conditions"]:
            report.conditions_version += 1
        report.save()
        _write_relations(report, plan)
        change = GradingChange.objects.create(
            report=report,
            changed_by=actor,
            reason=reason.strip(),
            **{f"old_{name}": value for name, value in old.items()},
            **{f"new_{name}": value for name, value in new.items()},
        )
        record(
            "intelligence.report_regraded",
            actor=actor,
            target=report,
            detail={
                "grading_change_id": change.pk,
                "from": _grading_code(old),
                "to": _grading_code(new),
                "conditions_changed": old["handling_conditions"] != new["handling_conditions"],
                "recipients_from": old_recipients,
                "recipients_to": new_recipients,
            },
        )
        if old["tlp"] != new["tlp"] or old_recipients != new_recipients:
            _withdraw_notices(actor=actor, report=report)
    return change


def _grading_code(values: Mapping[str, str]) -> str:
    return (
        f"{values['source_evaluation']}/{values['intelligence_assessment']}/"
        f"{values['handling_code']} {values['tlp']}"
    )


# --- Reading --------------------------------------------------------------------------


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
    membership = _require_readable(user, report)
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
        "intelligence.report_viewed",
        actor=user,
        target=report,
        detail={"level": level, "conditions_version": report.conditions_version}
        if report.handling_code == HandlingCode.CONDITIONS
        else {"level": level},
    )
    return ReportReading(report=report, level=level, data=data)


def acknowledge_conditions(
    *, actor: User, report: IntelligenceReport, conditions_version: int | None = None
) -> ConditionsAcknowledgement:
    """A reader in another agency accepts the conditions of a C report they were shown.

    ``conditions_version`` is the version the reader was shown: the page always sends
    it, so a re-grade between showing and clicking never records acceptance of text the
    reader did not see; when it is no longer the current version nothing is recorded
    and ``IllegalTransition`` (a 409 in the API, a message on the page) asks them to
    read the new conditions. An API client may leave it out to accept the conditions as
    they stand now (its answer shows which). Idempotent: a second call returns the first
    acknowledgement; only the first is audited. New conditions (a re-grade) need a new
    acknowledgement."""
    membership = _require_readable(actor, report)
    if membership.agency_id == report.originating_agency_id:
        raise ValidationError(
            {"handling_conditions": _("Your own agency's reports need no acknowledgement.")}
        )
    with transaction.atomic():
        # Under the row lock a re-grade takes: the version checked is the one recorded.
        current = _locked(report)
        if current.handling_code != HandlingCode.CONDITIONS:
            raise ValidationError(
                {"handling_conditions": _("This report has no handling conditions to acknowledge.")}
            )
        if conditions_version is not None and conditions_version != current.conditions_version:
            raise IllegalTransition(
                _("The conditions changed since you read them: read them again.")
            )
        acknowledgement, created = ConditionsAcknowledgement.objects.get_or_create(
            report=current,
            user=actor,
            conditions_version=current.conditions_version,
            defaults={"conditions": current.handling_conditions},
        )
        if created:
            record(
                "intelligence.conditions_acknowledged",
                actor=actor,
                target=current,
                detail={"conditions_version": current.conditions_version},
            )
    return acknowledgement


def entities_set(
    *, actor: User, report: IntelligenceReport, entities: Iterable[Mapping[str, Any]]
) -> IntelligenceReport:
    """Replace the report's entities (normalised); a submitted report is matched again."""
    return report_update(actor=actor, report=report, entities=list(entities))


# --- Matching -------------------------------------------------------------------------


def _entity_word(kind: str) -> str:
    return str(EntityKind(kind).label).lower()


def _candidates(
    report: IntelligenceReport, own: list[tuple[str, str]], within: Iterable[int]
) -> list[Entity]:
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
# Done jobs are kept this long (to answer "when was this report matched?"), then deleted.
MATCHING_JOB_RETENTION = datetime.timedelta(days=7)
# The first key of the advisory locks that matching takes per entity (any constant that
# no other lock of Concord's uses; the two-key space of PostgreSQL's advisory locks).
_ENTITY_LOCK_CLASS = 7_140_001


def _match_later(*, actor: User, report: IntelligenceReport) -> MatchingJob:
    """Owe ``report`` a matching, done by a worker after the commit (``report_match``).

    One row and one on-commit publish, whatever other reports exist: nothing the
    submitter's request does depends on reports it may not read. The publish is
    ``robust``: with the broker down the commit stands, the error is logged, and beat
    publishes the job later (``matching_jobs_to_requeue``).
    """
    job = MatchingJob.objects.create(report=report, requested_by=actor)
    job_id = job.pk
    # A function with a name, not a functools.partial: Django logs a robust callback's
    # failure by its __qualname__.
    transaction.on_commit(lambda: _publish_matching(job_id), robust=True)
    return job


def _publish_matching(job_id: int) -> None:
    from .tasks import match_report  # tasks import this module

    match_report.delay(job_id)


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
            "intelligence.match_created",
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
    """Delete jobs done longer ago than ``MATCHING_JOB_RETENTION`` (at most ``limit``)."""
    old = MatchingJob.objects.filter(
        done_at__lt=timezone.now() - MATCHING_JOB_RETENTION
    ).values_list("pk", flat=True)[:limit]
    deleted, _by_model = MatchingJob.objects.filter(pk__in=list(old)).delete()
    return deleted


def _notice_key(match: Match, existing_agency_id: int, side: Literal["existing", "new"]) -> str:
    """The dedup key of one side's notification of ``match`` (one per new report, other
    agency and kind of entity: ``_tell``)."""
    key = f"intelligence-match:{match.new_report_id}:{existing_agency_id}:{match.kind}"
    return key if side == "existing" else f"{key}:submitter"


def _withdraw_notices(*, actor: User, report: IntelligenceReport) -> None:
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
    lost_existing = list(
        Match.objects.filter(new_report=report, existing_agency_told=True)
        .exclude(reads_report("existing_report__originating_agency_id"))
        .annotate(existing_agency=F("existing_report__originating_agency_id"))
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
                "intelligence.match_withdrawn",
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
    *, actor: User, report: IntelligenceReport, matches: list[Match], candidates: list[Entity]
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


MATCHES_LISTED = "intelligence.matches_listed"


def matches_listed(user: Any, match_ids: list[int]) -> None:
    """Audit one page of the match inbox, naming the matches given (the page and the API
    alike). The list names no other agency; opening a match is audited on its own."""
    record(MATCHES_LISTED, actor=user, detail={"match_ids": match_ids})


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
    match = access.get_visible_or_404(Match.objects.all(), user, VIEW_MATCH, pk=match_id)
    own_report = IntelligenceReport.objects.get(pk=match.own_report_id)
    own_side: Literal["existing", "new"] = (
        "existing" if match.own_report_id == match.existing_report_id else "new"
    )
    other_report_id = match.new_report_id if own_side == "existing" else match.existing_report_id
    entity = own_report.entities.filter(kind=match.kind, normalised=match.normalised).first()
    record(
        "intelligence.match_viewed",
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


# --- Operations and premises visits ---------------------------------------------------

# Reading operations and visits is audited like reading reports: one event per page or
# list, naming what was shown by id (never a visit's notes or a premises' details).
OPERATIONS_LISTED = "intelligence.operations_listed"
OPERATION_VIEWED = "intelligence.operation_viewed"
VISITS_LISTED = "intelligence.visits_listed"
VISIT_VIEWED = "intelligence.visit_viewed"


def operation_create(
    *,
    actor: User,
    name: str,
    starts_on: datetime.date,
    ends_on: datetime.date | None = None,
    partner_agencies: Iterable[Any] = (),
) -> Operation:
    """Start an operation led by the actor's agency (officers, analysts, case managers)."""
    membership = access.require_membership(actor)
    if not access.role_may(membership.role, ADD_OPERATION):
        raise PermissionDenied(_("Only officers, analysts and case managers start operations."))
    errors: dict[str, str] = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = _("Name the operation.")
    elif Operation.objects.filter(lead_agency=membership.agency, name__iexact=name).exists():
        errors["name"] = _("Your agency already has an operation with this name.")
    if ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = _("An operation cannot end before it starts.")
    wanted = set(_ids(partner_agencies, "partner_agencies"))
    partners = list(Agency.objects.filter(pk__in=wanted, active=True))
    if len(partners) != len(wanted):
        errors["partner_agencies"] = _("Choose active agencies on Concord.")
    elif membership.agency_id in wanted:
        errors["partner_agencies"] = _("Your agency leads the operation; choose other agencies.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        operation = Operation.objects.create(
            lead_agency=membership.agency,
            name=name,
            starts_on=starts_on,
            ends_on=ends_on,
            created_by=actor,
        )
        operation.partner_agencies.set(partners)
        record(
            "intelligence.operation_created",
            actor=actor,
            target=operation,
            detail={"partner_agency_ids": sorted(a.pk for a in partners)},
        )
    return operation


def _visible_operation(actor: Any, operation: Operation | None) -> None:
    """A visit is recorded in an operation the actor's agency leads or partners; any
    other is 404 as if it did not exist (audited)."""
    if (
        operation is not None
        and not Operation.objects.visible_to(actor, VIEW_OPERATION).filter(pk=operation.pk).exists()
    ):
        access.refuse(actor, operation, VIEW_OPERATION)
        raise Http404


def visit_record(
    *,
    actor: User,
    premises_type: str,
    postcode_district: str,
    visited_on: datetime.date,
    outcome: str,
    operation: Operation | None = None,
    workers_present: int | None = None,
    indicators: Iterable[str] = (),
    notes: str = "",
) -> PremisesVisit:
    """Record a premises visit by the actor's agency, in an operation it leads or
    partners (or outside any operation). The date must not be in the future, and within
    the operation's dates."""
    membership = access.require_membership(actor)
    if not access.role_may(membership.role, ADD_VISIT):
        raise PermissionDenied(_("Your role does not record premises visits."))
    _visible_operation(actor, operation)
    errors: dict[str, str] = {}
    if premises_type not in PremisesType.values:
        errors["premises_type"] = _("Choose the type of premises.")
    if outcome not in VisitOutcome.values:
        errors["outcome"] = _("Choose the outcome of the visit.")
    district = "".join((postcode_district or "").split()).upper()
    if not district:
        errors["postcode_district"] = _("Give the postcode district, e.g. NE1.")
    elif membership.agency.country == "GB" and not is_postcode_district(district):
        errors["postcode_district"] = _(
            "“%(value)s” is not a UK postcode district: give the outward code only, e.g. NE1."
        ) % {"value": postcode_district}
    elif len(district) > 8:
        errors["postcode_district"] = _("A postcode district is at most 8 characters.")
    if visited_on > timezone.localdate():
        errors["visited_on"] = _("The visit cannot be in the future.")
    elif operation is not None and (
        visited_on < operation.starts_on
        or (operation.ends_on is not None and visited_on > operation.ends_on)
    ):
        errors["visited_on"] = _("The visit date falls outside the operation's dates.")
    if workers_present is not None and workers_present < 0:
        errors["workers_present"] = _("The number of workers cannot be negative.")
    elif workers_present is not None and workers_present > MAX_WORKERS_PRESENT:
        errors["workers_present"] = _("A visit records at most %(max)d workers present.") % {
            "max": MAX_WORKERS_PRESENT
        }
    seen = list(indicators)
    bad = [str(i) for i in seen if i not in Indicator.values]
    if bad:
        errors["indicators"] = _("Unknown indicator: %s") % ", ".join(bad)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        visit = PremisesVisit.objects.create(
            operation=operation,
            agency=membership.agency,
            premises_type=premises_type,
            postcode_district=district,
            visited_on=visited_on,
            workers_present=workers_present,
            indicators=[i for i in Indicator.values if i in set(seen)],
            outcome=outcome,
            notes=notes.strip(),
            recorded_by=actor,
        )
        record(
            "intelligence.visit_recorded",
            actor=actor,
            target=visit,
            detail={"operation_id": operation.pk if operation else None, "outcome": outcome},
        )
    return visit


def _require_visit(actor: Any, visit: PremisesVisit) -> None:
    if not PremisesVisit.objects.visible_to(actor, VIEW_OPERATION).filter(pk=visit.pk).exists():
        access.refuse(actor, visit, VIEW_OPERATION)
        raise Http404


def _likely_exploitation(visit: PremisesVisit) -> list[str]:
    # Workplaces suggest labour exploitation; a home could be anything (domestic
    # servitude, sexual exploitation...), so nothing is assumed there.
    if visit.premises_type in {PremisesType.RESIDENTIAL, PremisesType.OTHER}:
        return []
    return [ExploitationType.LABOUR]


def visit_start_case(*, actor: User, visit: PremisesVisit) -> dict[str, Any]:
    """The initial data of the case form opened from a visit (nothing is created here:
    the caseworker completes the form and ``casework.services.case_create`` opens it,
    then ``visit_link`` records it on the visit)."""
    _require_visit(actor, visit)
    if not access.user_may(actor, ADD_CASE):
        raise PermissionDenied(_("Only caseworkers and case managers open cases."))
    kind = visit.agency.kind
    if kind == AgencyKind.POLICE:
        how = HowIdentified.POLICE_OPERATION
    elif kind in {AgencyKind.CHARITY, AgencyKind.COMMUNITY_GROUP}:
        how = HowIdentified.NGO_OUTREACH
    else:
        how = HowIdentified.INSPECTION
    return {
        "exploitation_types": _likely_exploitation(visit),
        "how_identified": how,
        "region": visit.agency.region,
        "visit": visit.pk,
    }


def visit_start_report(*, actor: User, visit: PremisesVisit) -> dict[str, Any]:
    """The initial data of the report form opened from a visit, under the API's names.

    The summary (which travels) holds only what was observed: premises type, district,
    date, number of workers, indicators and outcome. The visit's notes, which may name
    people, are read by the visiting agency alone (as on the visit's page and in the
    API): they go to the full text, which stays in the agency, only when the actor's
    agency made the visit; another agency of the operation starts with an empty full
    text. Seen by the agency's own staff, the information is graded 1/A/P to start
    with; TLP:AMBER to the partnership.
    """
    _require_visit(actor, visit)
    membership = access.require_membership(actor)
    if not access.role_may(membership.role, ADD_REPORT):
        raise PermissionDenied(
            _("Only analysts, officers, caseworkers and case managers write intelligence.")
        )
    premises = str(PremisesType(visit.premises_type).label).lower()
    seen = [str(Indicator(i).label).lower() for i in visit.indicators]
    lines = [
        _("Visit to a %(premises)s in %(district)s on %(date)s.")
        % {"premises": premises, "district": visit.postcode_district, "date": visit.visited_on},
    ]
    if visit.workers_present is not None:
        lines.append(_("Workers present: %(n)d.") % {"n": visit.workers_present})
    lines.append(
        _("Indicators observed: %(list)s.") % {"list": ", ".join(seen)}
        if seen
        else _("No indicators observed.")
    )
    lines.append(
        _("Outcome: %(outcome)s.") % {"outcome": str(VisitOutcome(visit.outcome).label).lower()}
    )
    return {
        "title": _("Premises visit: %(premises)s, %(district)s, %(date)s")
        % {"premises": premises, "district": visit.postcode_district, "date": visit.visited_on},
        "summary": " ".join(lines),
        "full_text": visit.notes if visit.agency_id == membership.agency_id else "",
        "source_description": _("Premises visit by %(agency)s staff (visit %(id)d).")
        % {"agency": visit.agency.name, "id": visit.pk},
        "source_evaluation": SourceEvaluation.RELIABLE,
        "intelligence_assessment": IntelligenceAssessment.KNOWN_DIRECTLY,
        "handling_code": HandlingCode.PERMITTED,
        "handling_conditions": "",
        "tlp": TLP.AMBER,
        "tlp_recipients": [],
        "distribution": Distribution.PARTNERSHIP,
        "sharing_group": None,
        "exploitation_types": _likely_exploitation(visit),
        "area": visit.postcode_district,
        "entities": [],
        "visit": visit.pk,
    }


def visit_link(
    *,
    actor: User,
    visit: PremisesVisit,
    case: Case | None = None,
    report: IntelligenceReport | None = None,
) -> PremisesVisit:
    """Record the case or report made from a visit. The actor must see the visit and the
    case, and the report must be their own agency's."""
    if (case is None) == (report is None):
        raise ValueError("Link exactly one of a case or a report.")
    _require_visit(actor, visit)
    membership = access.require_membership(actor)
    if case is not None:
        if not Case.objects.visible_to(actor, VIEW_CASE).filter(pk=case.pk).exists():
            raise Http404
        if visit.case_id is not None and visit.case_id != case.pk:
            raise ValidationError({"case": _("A case has already been opened from this visit.")})
        visit.case = case
        changed = "case"
    else:
        assert report is not None
        _require_readable(actor, report)
        if report.originating_agency_id != membership.agency_id:
            raise PermissionDenied(_("Link a report of your own agency."))
        if visit.report_id is not None and visit.report_id != report.pk:
            raise ValidationError(
                {"report": _("A report has already been written from this visit.")}
            )
        visit.report = report
        changed = "report"
    with transaction.atomic():
        visit.save(update_fields=[changed])
        record(
            "intelligence.visit_linked",
            actor=actor,
            target=visit,
            detail={f"{changed}_id": getattr(visit, f"{changed}_id")},
        )
    return visit
