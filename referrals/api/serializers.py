from __future__ import annotations

from rest_framework import serializers

from agencies.models import Agency
from casework.models import Case

from ..models import NRMReferral, Referral, ReferralKind, Urgency


class ReferralSerializer(serializers.ModelSerializer):
    case = serializers.PrimaryKeyRelatedField(queryset=Case.objects.all())
    to_agency = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.filter(active=True))
    kind = serializers.ChoiceField(choices=ReferralKind.choices)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.ROUTINE)
    case_reference = serializers.CharField(source="case.reference", read_only=True)
    justice_outcome = serializers.IntegerField(
        source="justice_outcome_id",
        required=False,
        allow_null=True,
        help_text="For a file to prosecutors: the id of a justice outcome on the case.",
    )

    class Meta:
        model = Referral
        fields = [
            "id",
            "case",
            "case_reference",
            "from_agency",
            "to_agency",
            "kind",
            "urgency",
            "reason",
            "share_identity",
            "justice_outcome",
            "status",
            "respond_by",
            "sent_at",
            "answered_at",
            "decline_reason",
        ]
        read_only_fields = [
            "id",
            "from_agency",
            "status",
            "respond_by",
            "sent_at",
            "answered_at",
            "decline_reason",
        ]


class DeclineSerializer(serializers.Serializer):
    reason = serializers.CharField()


class NRMSerializer(serializers.ModelSerializer):
    rg_due = serializers.DateTimeField(read_only=True)
    recovery_period_ends = serializers.DateField(read_only=True)
    reconsideration_deadline = serializers.DateField(read_only=True)
    support_contact_due = serializers.DateTimeField(read_only=True)
    submitted_at = serializers.DateTimeField(required=False)

    class Meta:
        model = NRMReferral
        fields = [
            "id",
            "agency",
            "submitted_at",
            "competent_authority_reference",
            "rg_decision",
            "rg_decided_on",
            "cg_decision",
            "cg_decided_on",
            "support_allocated_at",
            "support_contacted_at",
            "rg_due",
            "recovery_period_ends",
            "reconsideration_deadline",
            "support_contact_due",
        ]
        read_only_fields = ["id", "agency"]


class DutyToNotifySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    anonymous = serializers.BooleanField(default=True)
    reference = serializers.CharField(required=False, allow_blank=True, default="")
    submitted_at = serializers.DateTimeField(read_only=True)


class DeadlineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    due = serializers.DateTimeField()
    case_id = serializers.IntegerField()
    case_reference = serializers.CharField()
    url = serializers.CharField()
    overdue = serializers.BooleanField()
