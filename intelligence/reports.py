"""The writes of a report: create, change, submit, archive, re-grade, and a reader's
acknowledgement of its handling conditions.

Each service checks its rule, changes state in one transaction and writes the audit
event. A report the actor may not read answers ``Http404`` (and the attempt is audited);
one they may read but not change answers ``PermissionDenied``; a move its status does not
allow, ``IllegalTransition``; bad input is a ``ValidationError`` with field errors
(``intelligence.report_fields``).

Written by contributors (``intelligence.add_report``: analysts, officers, caseworkers,
case managers) for their own agency, as drafts. The originating agency changes them
while they are drafts or submitted, never once archived (``report_update``). A
submitted report's grading, and the agencies named to read it at TLP:RED, change
only through ``report_regrade``, by a role that grades, with a reason kept in
``GradingChange``; a draft's grading is simply edited (a draft is not re-graded).
Status moves draft → submitted → archived (a draft may also be archived, i.e.
abandoned).

Submitting a report, or changing a submitted report's entities, owes it a matching
(``intelligence.matching``); narrowing a submitted report's audience withdraws the
match notifications of the sides that no longer read it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies import access
from agencies.models import Membership, User
from audit.audit_actions import AuthAction
from audit.record import record
from core.errors import IllegalTransition

from .audit_actions import IntelligenceAction
from .matching import match_later, withdraw_notices
from .models import (
    ConditionsAcknowledgement,
    GradingChange,
    HandlingCode,
    IntelligenceReport,
    ReportStatus,
)
from .permissions import ADD_REPORT, GRADE_REPORT
from .reads import require_readable
from .report_fields import (
    AUDIENCE_FIELDS,
    GRADING_FIELDS,
    Plan,
    apply_fields,
    tlp_recipients_differ,
    write_relations,
)

# --- Who may write --------------------------------------------------------------------


def require_editor(actor: Any, report: IntelligenceReport) -> Membership:
    """The originating agency's contributors who may read the report change it."""
    membership = require_readable(actor, report, ADD_REPORT)
    if membership.agency_id != report.originating_agency_id or not access.role_may(
        membership.role, ADD_REPORT
    ):
        record(
            AuthAction.ACCESS_FORBIDDEN,
            actor=actor,
            target=report,
            detail={"permission": ADD_REPORT},
        )
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


# --- Writes ---------------------------------------------------------------------------


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
    plan = apply_fields(
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
        write_relations(report, plan)
        record(
            IntelligenceAction.REPORT_CREATED,
            actor=actor,
            target=report,
            detail={"grading": report.grading, "tlp": report.tlp, "entities": _kinds(plan)},
        )
    return report


def _kinds(plan: Plan) -> list[str]:
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
        plan = apply_fields(
            actor=actor, membership=membership, report=report, fields=fields, creating=False
        )
        if not plan.changed:
            return report
        report.save()
        write_relations(report, plan)
        record(
            IntelligenceAction.REPORT_UPDATED,
            actor=actor,
            target=report,
            detail={"fields": plan.changed},
        )
        if report.status == ReportStatus.SUBMITTED and plan.entities is not None:
            match_later(actor=actor, report=report)
        if report.status == ReportStatus.SUBMITTED and set(plan.changed) & set(AUDIENCE_FIELDS):
            withdraw_notices(actor=actor, report=report)
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
            IntelligenceAction.REPORT_SUBMITTED,
            actor=actor,
            target=report,
            detail={
                "grading": report.grading,
                "tlp": report.tlp,
                "distribution": report.distribution,
            },
        )
        match_later(actor=actor, report=report)
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
            IntelligenceAction.REPORT_ARCHIVED,
            actor=actor,
            target=report,
            detail={"from": previous, "reason": reason.strip()},
        )
        if previous == ReportStatus.SUBMITTED:
            # No other agency reads it now: the sides told of a match because they read
            # it lose their notification (and the match, at read time).
            withdraw_notices(actor=actor, report=report)
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
    wanted: dict[str, Any] = {
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
        plan = apply_fields(
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
        write_relations(report, plan)
        change = GradingChange.objects.create(
            report=report,
            changed_by=actor,
            reason=reason.strip(),
            **{f"old_{name}": value for name, value in old.items()},
            **{f"new_{name}": value for name, value in new.items()},
        )
        record(
            IntelligenceAction.REPORT_REGRADED,
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
            withdraw_notices(actor=actor, report=report)
    return change


def _grading_code(values: Mapping[str, str]) -> str:
    return (
        f"{values['source_evaluation']}/{values['intelligence_assessment']}/"
        f"{values['handling_code']} {values['tlp']}"
    )


def entities_set(
    *, actor: User, report: IntelligenceReport, entities: Iterable[Mapping[str, Any]]
) -> IntelligenceReport:
    """Replace the report's entities (normalised); a submitted report is matched again."""
    return report_update(actor=actor, report=report, entities=list(entities))


# --- A reader's acknowledgement -------------------------------------------------------


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
    membership = require_readable(actor, report)
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
                IntelligenceAction.CONDITIONS_ACKNOWLEDGED,
                actor=actor,
                target=current,
                detail={"conditions_version": current.conditions_version},
            )
    return acknowledgement
