"""Operations and premises visits.

An operation is led by the creator's agency with partner agencies; visits are
recorded by members of the lead or partner agencies (or outside any operation, seen
by the recording agency alone). From a visit, ``visit_start_case`` and
``visit_start_report`` return the initial data of the case or report form, and
``visit_link`` records the case or report made from it.

Each service checks its rule, writes in one transaction with its audit event, and
answers ``Http404`` for an operation or visit the actor's agency may not see (the
attempt audited), ``PermissionDenied`` for a role that may not act, and a
``ValidationError`` with field errors for bad input. Reading operations and visits is
audited by the views, under the event names in ``intelligence.reads``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies import access
from agencies.models import Agency, AgencyKind, User
from audit.record import record
from casework.models import Case, ExploitationType, HowIdentified
from casework.permissions import ADD_CASE, VIEW_CASE

from .audit_actions import IntelligenceAction
from .entities import is_postcode_district
from .models import (
    MAX_WORKERS_PRESENT,
    TLP,
    Distribution,
    HandlingCode,
    Indicator,
    IntelligenceAssessment,
    IntelligenceReport,
    Operation,
    PremisesType,
    PremisesVisit,
    SourceEvaluation,
    VisitOutcome,
)
from .permissions import ADD_OPERATION, ADD_REPORT, ADD_VISIT, VIEW_OPERATION
from .reads import require_readable
from .report_fields import as_ids


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
    wanted = set(as_ids(partner_agencies, "partner_agencies"))
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
            IntelligenceAction.OPERATION_CREATED,
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
            IntelligenceAction.VISIT_RECORDED,
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
        require_readable(actor, report)
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
            IntelligenceAction.VISIT_LINKED,
            actor=actor,
            target=visit,
            detail={f"{changed}_id": getattr(visit, f"{changed}_id")},
        )
    return visit
