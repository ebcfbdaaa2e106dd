"""The API's bodies of evidence requests, break-glass and justice outcomes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import (
    BreakGlassEvent,
    EvidenceAccessRequest,
    EvidenceItemKind,
    JusticeOutcome,
)
from .break_glass import GROUNDS_NEEDED, REASON_NEEDED


class EvidenceItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EvidenceItemKind.choices)
    id = serializers.IntegerField(required=False, allow_null=True)
    approved = serializers.BooleanField(read_only=True, allow_null=True)

    def to_representation(self, item: Any) -> dict[str, Any]:
        if isinstance(item, dict):
            return item
        return {
            "kind": item.kind,
            "id": item.document_id or item.note_id,
            "approved": item.approved,
        }


class EvidenceRequestSerializer(serializers.ModelSerializer):
    # An id, not a related field: the view resolves it through the caller's scope.
    case = serializers.IntegerField(source="case_id")
    items = EvidenceItemSerializer(many=True)
    agency = serializers.PrimaryKeyRelatedField(read_only=True)
    requested_by = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = EvidenceAccessRequest
        fields = [
            "id",
            "case",
            "purpose",
            "crime_reference",
            "legal_basis",
            "items",
            "status",
            "expires_at",
            "agency",
            "requested_by",
            "requested_at",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = [
            "id",
            "status",
            "expires_at",
            "requested_at",
            "decided_at",
            "decision_note",
        ]


class EvidenceApproveSerializer(serializers.Serializer):
    items = EvidenceItemSerializer(many=True)
    victim_consulted = serializers.BooleanField()
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class BreakGlassSerializer(serializers.ModelSerializer):
    """A break-glass as its breaker opens it: they send the ``grounds`` (one of
    ``BreakGlassGrounds``) and the ``reason``, with the service's own messages."""

    class Meta:
        model = BreakGlassEvent
        fields = [
            "id",
            "case",
            "grounds",
            "reason",
            "opened_by",
            "agency",
            "opened_at",
            "expires_at",
            "review_tier",
            "reviewed_by",
            "reviewed_at",
            "review_note",
        ]
        read_only_fields = [f for f in fields if f not in ("grounds", "reason")]
        extra_kwargs = {
            "grounds": {
                "error_messages": {
                    key: GROUNDS_NEEDED for key in ("required", "null", "blank", "invalid_choice")
                }
            },
            "reason": {
                "error_messages": {key: REASON_NEEDED for key in ("required", "null", "blank")}
            },
        }


class BreakGlassReadSerializer(serializers.Serializer):
    """What the breaker read while the glass was open: when and what, never its content."""

    occurred_at = serializers.DateTimeField()
    action = serializers.CharField()
    what = serializers.CharField()


class BreakGlassEventSerializer(serializers.ModelSerializer):
    """A break-glass as its breaker and reviewers see it: who, which agency,
    when, on what grounds, until when, who reviews it and whether it is overdue, and, on
    one event, what was read. Never the case's identity, location or notes: its
    reference only.

    The free text (``reason``, ``review_note``) may describe the person: it is null, with
    ``reason_shown`` / ``review_note_shown`` false, for a viewer who may not read who the
    person is (a partnership manager, the lead agency's administrators); they have the
    grounds. Events come from ``reads.break_glass_events(user)``, which marks them;
    an unmarked event shows no text."""

    case_reference = serializers.CharField(source="case.reference", read_only=True)
    opened_by_name = serializers.SerializerMethodField()
    agency_name = serializers.CharField(source="agency.name", read_only=True)
    grounds_label = serializers.CharField(source="get_grounds_display", read_only=True)
    reason = serializers.SerializerMethodField()
    reason_shown = serializers.SerializerMethodField()
    review_note = serializers.SerializerMethodField()
    review_note_shown = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = BreakGlassEvent
        fields = [
            "id",
            "case",
            "case_reference",
            "grounds",
            "grounds_label",
            "reason",
            "reason_shown",
            "opened_by",
            "opened_by_name",
            "agency",
            "agency_name",
            "opened_at",
            "expires_at",
            "review_tier",
            "lead_agency",
            "overdue",
            "reviewed_by",
            "reviewed_at",
            "review_note",
            "review_note_shown",
        ]
        read_only_fields = fields

    def get_opened_by_name(self, event: BreakGlassEvent) -> str:
        return event.opened_by.get_full_name() or event.opened_by.username

    def get_reason_shown(self, event: BreakGlassEvent) -> bool:
        return bool(getattr(event, "shows_reason", False))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reason(self, event: BreakGlassEvent) -> str | None:
        return event.reason if self.get_reason_shown(event) else None

    def get_review_note_shown(self, event: BreakGlassEvent) -> bool:
        return bool(getattr(event, "shows_review_note", False))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_review_note(self, event: BreakGlassEvent) -> str | None:
        return event.review_note if self.get_review_note_shown(event) else None

    def get_overdue(self, event: BreakGlassEvent) -> bool:
        return event.is_overdue()


class BreakGlassEventDetailSerializer(BreakGlassEventSerializer):
    reads = serializers.SerializerMethodField()

    class Meta(BreakGlassEventSerializer.Meta):
        fields = [*BreakGlassEventSerializer.Meta.fields, "reads"]
        read_only_fields = fields

    @extend_schema_field(BreakGlassReadSerializer(many=True))
    def get_reads(self, event: BreakGlassEvent) -> list[dict[str, Any]]:
        return BreakGlassReadSerializer(self.context.get("reads", []), many=True).data


class BreakGlassReviewSerializer(serializers.Serializer):
    note = serializers.CharField(allow_blank=True)


class JusticeOutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = JusticeOutcome
        fields = [
            "id",
            "case",
            "recorded_by_agency",
            *JusticeOutcome.RECORDED_FIELDS,
            "recorded_at",
        ]
        read_only_fields = ["id", "case", "recorded_by_agency", "recorded_at"]
