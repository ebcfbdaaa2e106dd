"""The fields a writer sets on a report, and their validation.

``apply_fields`` sets what a writer sent on an unsaved report, checks every field, and
says which relations to write once the row is saved (``write_relations``). Every
problem is reported at once, as one ``ValidationError`` with field errors (a 400 in the
API, the error summary on the page). The report services (``intelligence.reports``)
call it inside their transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Membership, SharingGroup
from casework.models import Case, ExploitationType
from casework.permissions import VIEW_CASE

from . import audience
from .entities import is_postcode_district, normalise
from .models import TLP, Distribution, Entity, HandlingCode, IntelligenceReport

# The fields of a report a writer sets (the API's names).
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
_RELATIONS = ("tlp_recipients", "linked_cases", "entities")

# Problems found so far, by field (what the ValidationError will hold).
Errors = dict[str, Any]


@dataclass
class Plan:
    """Relations to write once the report row is saved (None: leave as they are)."""

    recipients: list[Agency] | None = None
    cases: list[Case] | None = None
    entities: list[tuple[str, str, str]] | None = None  # (kind, value, normalised)
    changed: list[str] = field(default_factory=list)


def as_id(value: Any) -> int | None:
    """An id from a URL or a form, or None when it is not one. ASCII digits only:
    ``"²".isdigit()`` is true, but ``int("²")`` fails."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() else None


def as_ids(values: Any, name: str) -> list[int]:
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
    return set(as_ids(list(wanted), "tlp_recipients")) != current


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


def _scalars(report: IntelligenceReport) -> dict[str, Any]:
    values = {
        n: getattr(report, n) for n in REPORT_FIELDS if n not in (*_RELATIONS, "sharing_group")
    }
    values["sharing_group"] = report.sharing_group_id
    return values


def apply_fields(
    *,
    actor: Any,
    membership: Membership,
    report: IntelligenceReport,
    fields: dict[str, Any],
    creating: bool,
) -> Plan:
    """Set ``fields`` on ``report`` (unsaved), validate everything, and say what else to
    write. Raises one ValidationError with every field's problem.

    The steps run in this order because later ones read what earlier ones set: the
    named recipients are checked against the distribution and sharing group just set.
    """
    unknown = set(fields) - set(REPORT_FIELDS)
    if unknown:
        raise ValueError(f"not report fields: {sorted(unknown)}")
    errors: Errors = {}
    before = _scalars(report)

    _set_text_and_grading(report, fields)
    _set_distribution(report, fields, membership=membership, errors=errors)
    _set_exploitation_types(report, fields, errors=errors)
    _set_area(report, fields)
    _set_review_on(report, fields, before=before, creating=creating, errors=errors)
    plan = Plan()
    plan.recipients = _recipients(
        report, fields, membership=membership, creating=creating, errors=errors
    )
    plan.cases = _linked_cases(report, fields, actor=actor, errors=errors)
    plan.entities = _entities(fields, membership=membership, errors=errors)
    _check_report(report, errors=errors)
    if errors:
        raise ValidationError(errors)

    after = _scalars(report)
    plan.changed = sorted(
        {n for n in after if before[n] != after[n]}
        | {n for n in ("tlp_recipients", "linked_cases", "entities") if n in fields}
    )
    return plan


def _set_text_and_grading(report: IntelligenceReport, fields: dict[str, Any]) -> None:
    """The free text (trimmed) and the grading. Moving to P without new conditions drops
    the old ones: a P report has none."""
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


def _set_distribution(
    report: IntelligenceReport,
    fields: dict[str, Any],
    *,
    membership: Membership,
    errors: Errors,
) -> None:
    """The distribution, and the sharing group: one the writer's agency owns or belongs
    to, dropped when the distribution no longer goes to a group."""
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
            found = visible.filter(pk=as_ids(group, "sharing_group")[0]).first()
            if found is None:
                errors["sharing_group"] = _(
                    "Choose a sharing group your agency owns or belongs to."
                )
            else:
                report.sharing_group = found


def _set_exploitation_types(
    report: IntelligenceReport, fields: dict[str, Any], *, errors: Errors
) -> None:
    if "exploitation_types" in fields:
        types = list(fields["exploitation_types"] or [])
        bad = [str(t) for t in types if t not in ExploitationType.values]
        if bad:
            errors["exploitation_types"] = _("Unknown exploitation type: %s") % ", ".join(bad)
        else:
            report.exploitation_types = sorted(set(types))


def _set_area(report: IntelligenceReport, fields: dict[str, Any]) -> None:
    """The area as written, a postcode district in capitals."""
    if "area" in fields:
        area = " ".join((fields["area"] or "").split())
        report.area = area.upper() if is_postcode_district(area) else area


def _set_review_on(
    report: IntelligenceReport,
    fields: dict[str, Any],
    *,
    before: dict[str, Any],
    creating: bool,
    errors: Errors,
) -> None:
    """A review date not in the past (one already past may stay as it is);
    INTELLIGENCE_REVIEW_DAYS ahead (a year by default) for a new report that names none."""
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
        report.review_on = today + datetime.timedelta(days=settings.INTELLIGENCE_REVIEW_DAYS)


def _recipients(
    report: IntelligenceReport,
    fields: dict[str, Any],
    *,
    membership: Membership,
    creating: bool,
    errors: Errors,
) -> list[Agency] | None:
    """The agencies named to read the report, to write (None: leave them as they are).
    Named recipients go with TLP:RED, and only within the distribution."""
    if report.tlp != TLP.RED:
        if fields.get("tlp_recipients"):
            errors["tlp_recipients"] = _("Name recipient agencies only for TLP:RED.")
        elif not creating and report.pk is not None and report.tlp_recipients.exists():
            return []
        return None
    if "tlp_recipients" in fields:
        wanted = as_ids(fields["tlp_recipients"] or [], "tlp_recipients")
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
        return recipients
    return None


def _linked_cases(
    report: IntelligenceReport, fields: dict[str, Any], *, actor: Any, errors: Errors
) -> list[Case] | None:
    """The cases to link (None: leave them as they are): only cases the writer sees."""
    if "linked_cases" not in fields:
        return None
    wanted_cases = as_ids(fields["linked_cases"] or [], "linked_cases")
    seen_cases = Case.objects.visible_to(actor, VIEW_CASE)
    cases = list(seen_cases.filter(pk__in=wanted_cases))
    if len(cases) != len(set(wanted_cases)):
        errors["linked_cases"] = _("You can link only cases you can see.")
        return None
    # Links a colleague made to cases this writer cannot see were never shown to them,
    # so their list cannot have meant to remove them.
    kept = report.linked_cases.exclude(pk__in=seen_cases.values("pk")) if report.pk else []
    return [*cases, *kept]


def _entities(
    fields: dict[str, Any], *, membership: Membership, errors: Errors
) -> list[tuple[str, str, str]] | None:
    """The entities to write, normalised for the writer's country (None: leave them)."""
    if "entities" not in fields:
        return None
    try:
        return _clean_entities(fields["entities"] or [], membership.agency.country)
    except ValidationError as error:
        errors.update(error.message_dict)
        return None


def _check_report(report: IntelligenceReport, *, errors: Errors) -> None:
    """A title, and what the model's own validation says of the fields not yet in
    error."""
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


def write_relations(report: IntelligenceReport, plan: Plan) -> None:
    """Write the relations ``apply_fields`` planned, once the report row is saved."""
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
