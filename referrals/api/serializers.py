from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import serializers

from agencies import access
from agencies.models import NOT_A_CURRENT_PARTNER, Agency
from casework.models import Case, JusticeOutcome
from casework.permissions import VIEW_CASE

from ..models import (
    NRMReconsideration,
    NRMReferral,
    ReconsiderationOutcome,
    Referral,
    ReferralKind,
    Urgency,
)

NO_SUCH_CASE = "There is no such case."
NO_SUCH_OUTCOME = "There is no such justice outcome on this case."


class VisibleCaseField(serializers.PrimaryKeyRelatedField):
    """A case id in a request body, resolved through the caller's scoping: one that does
    not exist, is not an id at all, or is hidden from the caller gives the same 400 field
    error; a hidden one is audited (``access.get_visible_or_404``)."""

    default_error_messages = {
        "required": serializers.Field.default_error_messages["required"],
        "does_not_exist": NO_SUCH_CASE,
        "incorrect_type": NO_SUCH_CASE,
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Case.objects.all(), **kwargs)

    def to_internal_value(self, data: Any) -> Case:
        try:
            return access.get_visible_or_404(
                Case.objects.all(), self.context["request"].user, VIEW_CASE, pk=data
            )
        except Http404:
            self.fail("does_not_exist")


def agency_field(**kwargs: Any) -> serializers.PrimaryKeyRelatedField:
    """An agency id in a request body: a missing, malformed or unknown id answers the same
    words as an inactive agency or one outside the caller's partnerships (checked by the
    service, which both doors call)."""
    return serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.all(),
        error_messages={
            "does_not_exist": NOT_A_CURRENT_PARTNER,
            "incorrect_type": NOT_A_CURRENT_PARTNER,
        },
        **kwargs,
    )


class ReferralSerializer(serializers.ModelSerializer):
    case = VisibleCaseField()
    to_agency = agency_field()
    kind = serializers.ChoiceField(choices=ReferralKind.choices)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.ROUTINE)
    case_reference = serializers.CharField(source="case.reference", read_only=True)
    justice_outcome = serializers.IntegerField(
        source="justice_outcome_id",
        required=False,
        allow_null=True,
        min_value=0,
        max_value=2**63 - 1,
        error_messages={
            "invalid": NO_SUCH_OUTCOME,
            "min_value": NO_SUCH_OUTCOME,
            "max_value": NO_SUCH_OUTCOME,
            "max_string_length": NO_SUCH_OUTCOME,
        },
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

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Resolve the outcome among the chosen case's own: an outcome of another case, or
        none at all, is the same "no such outcome" (only outcomes of a case the caller
        sees can be named)."""
        outcome_id = attrs.pop("justice_outcome_id", None)
        if outcome_id is not None:
            outcome = JusticeOutcome.objects.filter(case=attrs["case"], pk=outcome_id).first()
            if outcome is None:
                elsewhere = JusticeOutcome.objects.filter(pk=outcome_id).first()
                user = self.context["request"].user
                if elsewhere is not None and not access.can(user, VIEW_CASE, elsewhere.case):
                    # The outcome of a case hidden from the caller: the trail keeps it.
                    access.refuse(user, elsewhere, VIEW_CASE)
                raise serializers.ValidationError({"justice_outcome": [NO_SUCH_OUTCOME]})
            attrs["justice_outcome"] = outcome
        return attrs


class DeclineSerializer(serializers.Serializer):
    reason = serializers.CharField()


class ReconsiderationSerializer(serializers.ModelSerializer):
    """A reconsideration request. Its grounds and the extension's reason are shown only to
    those who may change the NRM record (``changeable`` in the context), as on the page."""

    class Meta:
        model = NRMReconsideration
        fields = [
            "id",
            "stage",
            "original_decided_on",
            "requested_on",
            "requested_by",
            "grounds",
            "extension_granted",
            "extension_reason",
            "outcome",
            "outcome_on",
        ]
        read_only_fields = ["id", "stage", "original_decided_on", "outcome", "outcome_on"]

    def to_representation(self, instance: NRMReconsideration) -> dict[str, Any]:
        data = super().to_representation(instance)
        if instance.nrm_id not in self.context.get("changeable", ()):
            data.pop("grounds")
            data.pop("extension_reason")
        return data


class ReconsiderationOutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[ReconsiderationOutcome.UPHELD, ReconsiderationOutcome.OVERTURNED]
    )
    outcome_on = serializers.DateField()


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class NRMSerializer(serializers.ModelSerializer):
    rg_due = serializers.DateField(read_only=True)
    # Null until their clock starts (a decision, support allocated, a withdrawal).
    recovery_period_ends = serializers.DateField(read_only=True, allow_null=True)
    reconsideration_deadline = serializers.DateField(read_only=True, allow_null=True)
    support_contact_due = serializers.DateTimeField(read_only=True, allow_null=True)
    support_ends_on = serializers.DateField(read_only=True, allow_null=True)
    withdrawn_at = serializers.DateTimeField(read_only=True, allow_null=True)
    reconsiderations = ReconsiderationSerializer(many=True, read_only=True)
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
            "support_ends_on",
            "withdrawn_at",
            "reconsiderations",
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
