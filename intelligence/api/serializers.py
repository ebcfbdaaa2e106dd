"""Shapes of the intelligence API.

A report is rendered from ``reads.report_read``'s data, which holds exactly the fields
the reader may see: every field here is optional on output, and a field the reader may
not see is absent from the JSON, not null (``ReportSerializer``). Writes are validated for
shape here and for meaning by the services.
"""

from __future__ import annotations

from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from casework.models import ExploitationType

from .. import audience
from ..models import (
    MAX_WORKERS_PRESENT,
    TLP,
    Distribution,
    EntityKind,
    HandlingCode,
    Indicator,
    IntelligenceAssessment,
    PremisesType,
    ReportStatus,
    SourceEvaluation,
    VisitOutcome,
)
from ..search import visible_summary


def _choice(choices: Any, what: Any, **kwargs: Any) -> serializers.ChoiceField:
    """A choice field whose error names the value and lists the codes."""
    codes = ", ".join(value for value, _label in choices)
    # DRF fills in {input}; the doubled braces survive this first format.
    message = format_lazy(_("“{{input}}” is not a {}: choose one of {}."), what, codes)
    return serializers.ChoiceField(
        choices=choices, error_messages={"invalid_choice": message}, **kwargs
    )


class AgencyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


# A mailbox, or "" for an agency that has not named one: not the schema's format "email"
# alone, which "" is not (found by fuzzing the API against its schema).
@extend_schema_field({"type": "string", "anyOf": [{"format": "email"}, {"maxLength": 0}]})
class MailboxOrEmptyField(serializers.CharField):
    pass


class ContactAgencySerializer(AgencyRefSerializer):
    intelligence_contact = MailboxOrEmptyField(
        read_only=True, help_text="Where to ask about a match (a team mailbox), or empty."
    )


class EntitySerializer(serializers.Serializer):
    kind = _choice(EntityKind.choices, _("kind of entity"))
    value = serializers.CharField(
        max_length=300,
        help_text="As written, e.g. 07911 123456, AB12 CDE, Jan Kowalski, 1984-03-09",
    )
    normalised = serializers.CharField(
        read_only=True, help_text="The form that is matched, e.g. +447911123456 for a phone."
    )


class CaseRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    reference = serializers.CharField(read_only=True)


class GradingChangeSerializer(serializers.Serializer):
    changed_at = serializers.DateTimeField(read_only=True)
    changed_by = serializers.CharField(source="changed_by.username", read_only=True)
    reason = serializers.CharField(read_only=True)
    old_source_evaluation = serializers.CharField(read_only=True)
    new_source_evaluation = serializers.CharField(read_only=True)
    old_intelligence_assessment = serializers.CharField(read_only=True)
    new_intelligence_assessment = serializers.CharField(read_only=True)
    old_handling_code = serializers.CharField(read_only=True)
    new_handling_code = serializers.CharField(read_only=True)
    old_handling_conditions = serializers.CharField(read_only=True)
    new_handling_conditions = serializers.CharField(read_only=True)
    old_tlp = serializers.CharField(read_only=True)
    new_tlp = serializers.CharField(read_only=True)


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)


class ReportSerializer(serializers.Serializer):
    """One report as its reader may see it now. Only ``id``, ``level`` and
    ``must_acknowledge`` are always present; the rest are absent when not the reader's to
    see: ``full_text``, ``source_description``, ``author``, ``tlp_recipients``,
    ``sharing_group`` and ``grading_changes`` outside the originating agency; ``summary``,
    ``entities`` and ``linked_cases`` while a C report's conditions wait to be
    acknowledged (``must_acknowledge``: POST ``acknowledge-conditions/``)."""

    # Documented as not required (core.schema): the parts a reader may not be shown.
    may_be_absent = audience.CONTENT_FIELDS | audience.FULL_ONLY_FIELDS

    id = serializers.IntegerField(read_only=True)
    level = serializers.ChoiceField(
        choices=["full", "summary", "conditions"],
        read_only=True,
        help_text="full: the originating agency; summary: another agency; conditions: "
        "the envelope and the conditions only, until they are acknowledged.",
    )
    must_acknowledge = serializers.BooleanField(read_only=True)
    title = serializers.CharField(read_only=True)
    originating_agency = AgencyRefSerializer(read_only=True)
    grading = serializers.CharField(read_only=True, help_text="3x5x2, e.g. 2/B/P")
    source_evaluation = serializers.ChoiceField(choices=SourceEvaluation.choices, read_only=True)
    intelligence_assessment = serializers.ChoiceField(
        choices=IntelligenceAssessment.choices, read_only=True
    )
    handling_code = serializers.ChoiceField(choices=HandlingCode.choices, read_only=True)
    handling_conditions = serializers.CharField(read_only=True)
    tlp = serializers.ChoiceField(choices=TLP.choices, read_only=True)
    distribution = serializers.ChoiceField(choices=Distribution.choices, read_only=True)
    exploitation_types = serializers.ListField(
        child=serializers.ChoiceField(choices=ExploitationType.choices), read_only=True
    )
    area = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=ReportStatus.choices, read_only=True)
    review_on = serializers.DateField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    summary = serializers.CharField(read_only=True)
    entities = EntitySerializer(many=True, read_only=True)
    linked_cases = CaseRefSerializer(
        many=True, read_only=True, help_text="Only the linked cases the reader can see."
    )
    full_text = serializers.CharField(read_only=True)
    source_description = serializers.CharField(read_only=True)
    author = UserRefSerializer(read_only=True)
    tlp_recipients = AgencyRefSerializer(many=True, read_only=True)
    sharing_group = AgencyRefSerializer(read_only=True, allow_null=True)
    grading_changes = GradingChangeSerializer(many=True, read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    archived_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def to_representation(self, reading: Any) -> dict[str, Any]:
        # ``reading`` is a dict of the fields the reader may see: what it lacks is absent
        # here too (DRF would write null for a nullable field it cannot find).
        data = super().to_representation(reading)
        return {name: value for name, value in data.items() if name in reading}


class ReportListSerializer(serializers.Serializer):
    """A row of a list or search: the envelope, and the summary when the reader may read
    it (absent while a C report's conditions wait). Never the full text or the source,
    not even for the originating agency: they are read on the report itself."""

    may_be_absent = frozenset({"summary"})

    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    originating_agency = AgencyRefSerializer(read_only=True)
    grading = serializers.CharField(read_only=True)
    source_evaluation = serializers.CharField(read_only=True)
    intelligence_assessment = serializers.CharField(read_only=True)
    handling_code = serializers.CharField(read_only=True)
    tlp = serializers.CharField(read_only=True)
    distribution = serializers.CharField(read_only=True)
    exploitation_types = serializers.ListField(child=serializers.CharField(), read_only=True)
    area = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    review_on = serializers.DateField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    must_acknowledge = serializers.BooleanField(source="reader_must_acknowledge", read_only=True)
    summary = serializers.CharField(
        read_only=True, required=False, help_text="Absent until the conditions are acknowledged."
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        summary = visible_summary(instance, self.context["request"].user)
        if summary is None:
            data.pop("summary", None)
        return data


class ReportWriteSerializer(serializers.Serializer):
    """What a writer sends to create (POST) or change (PATCH) a report.

    ``status``: ``submitted`` submits (on create, right after writing the draft);
    ``archived`` archives (PATCH only, with an optional ``archive_reason``). On a
    submitted report, changing a grading field (source evaluation, intelligence
    assessment, handling code or conditions, TLP) or the named recipients
    (``tlp_recipients``) is a re-grade: it needs ``regrade_reason`` and a role that
    grades (analysts, officers, case managers), and the old grading is kept in
    ``grading_changes``.
    """

    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="The sanitised text other agencies read (required to submit).",
    )
    full_text = serializers.CharField(
        required=False, allow_blank=True, help_text="Read by your own agency only."
    )
    source_description = serializers.CharField(
        required=False, allow_blank=True, help_text="Read by your own agency only."
    )
    source_evaluation = _choice(SourceEvaluation.choices, _("source evaluation"))
    intelligence_assessment = _choice(IntelligenceAssessment.choices, _("intelligence assessment"))
    handling_code = _choice(HandlingCode.choices, _("handling code"))
    handling_conditions = serializers.CharField(
        required=False, allow_blank=True, help_text="Required with handling code C."
    )
    tlp = _choice(TLP.choices, _("TLP colour"))
    tlp_recipients = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        help_text="Agency ids: the agencies that may read a TLP:RED report.",
    )
    distribution = _choice(Distribution.choices, _("distribution"))
    sharing_group = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Sharing group id, with distribution sharing_group.",
    )
    exploitation_types = serializers.ListField(
        child=_choice(ExploitationType.choices, _("type of exploitation")), required=False
    )
    area = serializers.CharField(
        required=False, allow_blank=True, max_length=120, help_text="A region or postcode district."
    )
    entities = EntitySerializer(many=True, required=False)
    review_on = serializers.DateField(
        required=False, allow_null=True, help_text="Defaults to a year after writing."
    )
    linked_cases = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        help_text="Ids of cases you can see.",
    )
    status = _choice(
        ReportStatus.choices,
        _("status"),
        required=False,
        help_text="submitted: submit it; archived: archive it (PATCH only).",
    )
    regrade_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Why the grading of a submitted report changes (required then).",
    )
    archive_reason = serializers.CharField(required=False, allow_blank=True)

    def validate_entities(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # A PATCH is partial, and DRF then requires no field of a nested entity either:
        # one without its kind or value is a field error, not a KeyError.
        if any("kind" not in item or "value" not in item for item in value):
            raise serializers.ValidationError(_("Give each entity its kind and its value."))
        return [{"kind": item["kind"], "value": item["value"]} for item in value]


class AcknowledgeSerializer(serializers.Serializer):
    conditions_version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version of the conditions you read (the report's "
        "conditions_version). If they changed since, nothing is accepted: 409.",
    )


# --- matches --------------------------------------------------------------------------


class MatchSerializer(serializers.Serializer):
    """A row of the match inbox: a match on one of the reader's agency's reports, with
    the entity as the reader's own report spells it. Nothing of the other side, not even
    its agency: that is named when the match is opened (``MatchDetailSerializer``,
    audited), as in the browser."""

    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=EntityKind.choices, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    own_report = serializers.IntegerField(source="own_report_id", read_only=True)
    own_report_title = serializers.CharField(read_only=True)
    own_value = serializers.CharField(
        read_only=True, allow_null=True, help_text="The entity as your own report names it."
    )
    own_side = serializers.ChoiceField(
        choices=["existing", "new"],
        read_only=True,
        help_text="existing: your report was there first; new: yours came later.",
    )


class MatchDetailSerializer(serializers.Serializer):
    """One match, opened (audited): the browser's match page as JSON. The agency to
    contact and its intelligence mailbox, whether it was told of the match too, and the
    other report's id only when you may read it; never its title, text or value."""

    id = serializers.IntegerField(source="match.pk", read_only=True)
    kind = serializers.ChoiceField(choices=EntityKind.choices, read_only=True)
    created_at = serializers.DateTimeField(source="match.created_at", read_only=True)
    own_report = serializers.IntegerField(source="own_report.pk", read_only=True)
    own_report_title = serializers.CharField(source="own_report.title", read_only=True)
    own_value = serializers.CharField(
        source="value", read_only=True, help_text="The entity as your own report names it."
    )
    own_side = serializers.ChoiceField(
        choices=["existing", "new"],
        read_only=True,
        help_text="existing: your report was there first; new: yours came later.",
    )
    other_agency = ContactAgencySerializer(source="contact_agency", read_only=True)
    other_agency_told = serializers.BooleanField(
        read_only=True,
        help_text="The other agency was told of this match too (it may read your report).",
    )
    other_report = serializers.IntegerField(
        source="other_report_id",
        read_only=True,
        required=False,
        help_text="Present only when you may read the other report.",
    )

    def to_representation(self, view: Any) -> dict[str, Any]:
        data = super().to_representation(view)
        if view.other_report_id is None:
            del data["other_report"]
        return data


# --- operations and visits ------------------------------------------------------------


class OperationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200)
    lead_agency = AgencyRefSerializer(read_only=True)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True)
    partner_agencies = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        write_only=True,
        help_text="Agency ids of the partners.",
    )
    partners = AgencyRefSerializer(
        source="partner_agencies.all", many=True, read_only=True, help_text="Partner agencies."
    )
    created_at = serializers.DateTimeField(read_only=True)


class VisitSerializer(serializers.Serializer):
    """A premises visit. ``notes`` may name people: only the visiting agency reads them
    (absent for the operation's other agencies), as they go to a report's full text.
    ``case`` and ``report`` are absent when a case or report was made from the visit but
    the reader may not see it (null when none was); as on the visit's page."""

    may_be_absent = frozenset({"notes", "case", "report"})

    id = serializers.IntegerField(read_only=True)
    operation = serializers.IntegerField(source="operation_id", read_only=True)
    agency = AgencyRefSerializer(read_only=True)
    premises_type = _choice(PremisesType.choices, _("type of premises"))
    postcode_district = serializers.CharField(max_length=16, help_text="The outward code, e.g. NE1")
    visited_on = serializers.DateField()
    workers_present = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_WORKERS_PRESENT
    )
    indicators = serializers.ListField(
        child=_choice(Indicator.choices, _("indicator")), required=False
    )
    outcome = _choice(VisitOutcome.choices, _("outcome"))
    notes = serializers.CharField(required=False, allow_blank=True)
    recorded_at = serializers.DateTimeField(read_only=True)
    case = serializers.IntegerField(
        source="case_id",
        read_only=True,
        allow_null=True,
        required=False,
        help_text="Present only when you may see the case.",
    )
    report = serializers.IntegerField(
        source="report_id",
        read_only=True,
        allow_null=True,
        required=False,
        help_text="Present only when you may read the report.",
    )

    def to_representation(self, visit: Any) -> dict[str, Any]:
        data = super().to_representation(visit)
        if visit.agency_id != self.context.get("agency_id"):
            data.pop("notes", None)
        # The list annotates what the reader may follow; a visit without the annotation
        # (just recorded) has nothing linked yet.
        if visit.case_id is not None and not getattr(visit, "case_visible", False):
            data.pop("case", None)
        if visit.report_id is not None and not getattr(visit, "report_readable", False):
            data.pop("report", None)
        return data
