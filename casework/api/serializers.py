from __future__ import annotations

from typing import Any

from django.urls import reverse
from django_countries.serializer_fields import CountryField
from rest_framework import serializers

from agencies.models import NOT_A_CURRENT_PARTNER, Agency

from ..duplicates import REASON_NEEDED as DUPLICATE_REASON_NEEDED
from ..models import (
    AccommodationType,
    Case,
    CaseNote,
    CaseStatus,
    CaseTask,
    CaseTaskKind,
    ChildStatusBasis,
    ClosureReason,
    Consent,
    Document,
    DuplicateStrength,
    ExploitationType,
    Need,
    RiskLevel,
    SafeguardingFlag,
    VictimIdentity,
)

active_agencies = Agency.objects.filter(active=True)


class CaseSerializer(serializers.ModelSerializer):
    """The case summary: no personal data. ``lead_agency`` is the creator's agency."""

    exploitation_types = serializers.ListField(
        child=serializers.ChoiceField(choices=ExploitationType.choices), required=False
    )
    nationality = CountryField(required=False, allow_blank=True)
    lead_agency: serializers.PrimaryKeyRelatedField[Agency] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )
    active_flags = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "status",
            "lead_agency",
            "exploitation_types",
            "county_lines",
            "exploited_as_child",
            "is_child",
            "age_disputed",
            "child_status_basis",
            "risk_level",
            "nationality",
            "region",
            "opened_at",
            "active_flags",
        ]
        read_only_fields = ["id", "reference", "lead_agency", "opened_at", "child_status_basis"]
        extra_kwargs = {
            "is_child": {
                "help_text": "Under 18 now. Worked out from the date of birth where one is "
                "recorded, true while the age is disputed; only otherwise is what you send "
                "kept (see child_status_basis)."
            },
        }

    def get_active_flags(self, case: Case) -> list[str]:
        flags = getattr(case, "active_flags", None)
        if flags is None:
            flags = case.flags.filter(active=True)
        return [flag.kind for flag in flags]


class CaseCreateSerializer(CaseSerializer):
    """Opening a case: every case opens ``open`` and moves on only through its transitions
    (PATCH ``status``, POST ``close/``), so ``status`` is read-only here, like the
    reference and the lead agency: sent, it is ignored, as DRF ignores read-only input."""

    class Meta(CaseSerializer.Meta):
        read_only_fields = [*CaseSerializer.Meta.read_only_fields, "status"]


class CaseListSerializer(serializers.Serializer):
    """A list row: the same fields as ``CaseSerializer``, read-only and declared here.

    A ModelSerializer works out its fields from the model on every request, and django-
    countries' field looks the code up in 250 countries per row; for a page of 50 this one
    takes a third of the time.
    """

    id = serializers.IntegerField(read_only=True)
    reference = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=CaseStatus.choices, read_only=True)
    lead_agency = serializers.IntegerField(source="lead_agency_id", read_only=True)
    exploitation_types = serializers.ListField(
        child=serializers.ChoiceField(choices=ExploitationType.choices), read_only=True
    )
    county_lines = serializers.BooleanField(read_only=True)
    exploited_as_child = serializers.BooleanField(read_only=True)
    is_child = serializers.BooleanField(read_only=True)
    age_disputed = serializers.BooleanField(read_only=True)
    child_status_basis = serializers.ChoiceField(choices=ChildStatusBasis.choices, read_only=True)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, read_only=True)
    nationality = serializers.CharField(source="nationality.code", read_only=True)
    region = serializers.CharField(read_only=True)
    opened_at = serializers.DateTimeField(read_only=True)
    active_flags = serializers.SerializerMethodField()

    get_active_flags = CaseSerializer.get_active_flags


class IdentitySerializer(serializers.ModelSerializer):
    possible_duplicates = serializers.SerializerMethodField()

    class Meta:
        model = VictimIdentity
        fields = [
            "given_name",
            "family_name",
            "date_of_birth",
            "phone",
            "aliases",
            "estimated_age",
            "email",
            "documents_held_by_other",
            "possible_duplicates",
        ]
        extra_kwargs = {"phone": {"help_text": "Any common format; stored and returned as E.164."}}

    def get_possible_duplicates(self, identity: VictimIdentity) -> list[dict[str, Any]]:
        """Other cases, among those the caller may see the identity of, with the same
        name and date of birth ("tell your story once")."""
        return self.context.get("possible_duplicates", [])


class LocationSerializer(serializers.Serializer):
    address = serializers.CharField()
    accommodation_type = serializers.ChoiceField(choices=AccommodationType.choices)
    since = serializers.DateField(required=False)


class NeedSerializer(serializers.ModelSerializer):
    owner_agency = serializers.PrimaryKeyRelatedField(queryset=active_agencies, required=False)
    urgency = serializers.IntegerField(min_value=1, max_value=4, required=False)

    class Meta:
        model = Need
        fields = [
            "id",
            "category",
            "urgency",
            "status",
            "owner_agency",
            "target_date",
            "note",
            "is_overdue",
            "created_at",
        ]
        read_only_fields = ["id", "is_overdue", "created_at"]


class ConsentSerializer(serializers.ModelSerializer):
    agency = serializers.PrimaryKeyRelatedField(
        queryset=active_agencies, required=False, allow_null=True
    )
    given_at = serializers.DateTimeField(required=False)

    class Meta:
        model = Consent
        fields = [
            "id",
            "scope",
            "agency",
            "given_at",
            "method",
            "language",
            "basis_reason",
            "withdrawn_at",
            "withdrawn_reason",
        ]
        read_only_fields = ["id", "withdrawn_at", "withdrawn_reason"]


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class DuplicateAgencySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="other_agency_id")
    name = serializers.CharField(source="other_agency_name")


class PossibleDuplicateSerializer(serializers.Serializer):
    """A possible match at another agency: which agency may know the person and
    how to reach it, never its case. ``id`` is this case's row, to dismiss it by."""

    id = serializers.IntegerField(read_only=True)
    agency = DuplicateAgencySerializer(source="*", read_only=True)
    contact = serializers.CharField(
        source="other_agency_contact",
        read_only=True,
        help_text="The agency's intelligence or safeguarding mailbox; empty if it has none.",
    )
    strength = serializers.ChoiceField(choices=DuplicateStrength.choices, read_only=True)
    found_at = serializers.DateTimeField(read_only=True)
    dismissed_at = serializers.DateTimeField(read_only=True, allow_null=True)


class DismissDuplicateSerializer(serializers.Serializer):
    reason = serializers.CharField(
        error_messages={key: DUPLICATE_REASON_NEEDED for key in ("required", "null", "blank")}
    )


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)
    agency = serializers.CharField(source="agency.name", read_only=True)

    class Meta:
        model = CaseNote
        fields = ["id", "body", "visibility", "author", "agency", "created_at", "updated_at"]
        read_only_fields = ["id", "author", "agency", "created_at", "updated_at"]
        # Who may read a note is the writer's choice, as on the browser's form: the
        # model's default would make it optional here and the service has none.
        extra_kwargs = {"visibility": {"required": True}}


class FlagSerializer(serializers.ModelSerializer):
    class Meta:
        model = SafeguardingFlag
        fields = ["id", "kind", "note", "active", "raised_at", "cleared_at"]
        read_only_fields = ["id", "active", "raised_at", "cleared_at"]


class DocumentSerializer(serializers.ModelSerializer):
    file = serializers.FileField(write_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "file",
            "kind",
            "purpose",
            "description",
            "original_name",
            "content_type",
            "size",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = [
            "id",
            "original_name",
            "content_type",
            "size",
            "uploaded_at",
            "download_url",
        ]

    def get_download_url(self, document: Document) -> str:
        return reverse(
            "api:case-document-download", kwargs={"pk": document.case_id, "doc_id": document.pk}
        )


class CloseSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ClosureReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class TransferSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    # A missing, malformed or unknown id answers what an inactive agency or one outside
    # the lead agency's partnerships does (the service checks those): one answer.
    to_agency = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.all(),
        error_messages={
            "does_not_exist": NOT_A_CURRENT_PARTNER,
            "incorrect_type": NOT_A_CURRENT_PARTNER,
        },
    )
    reason = serializers.CharField()
    status = serializers.CharField(read_only=True)


class TransferAnswerSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class GrantSerializer(serializers.Serializer):
    holder_kind = serializers.CharField()
    holder_id = serializers.IntegerField()
    holder_name = serializers.CharField()
    permission = serializers.CharField()
    reason_type = serializers.CharField()
    reason_id = serializers.IntegerField()
    reason = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)


class DecisionSerializer(serializers.Serializer):
    permission = serializers.CharField()
    allowed = serializers.BooleanField()
    why = serializers.CharField()


class AccessSerializer(serializers.Serializer):
    grants = GrantSerializer(many=True)
    you = DecisionSerializer(many=True)


class AuditRowSerializer(serializers.Serializer):
    occurred_at = serializers.DateTimeField()
    action = serializers.CharField()
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    agency = serializers.CharField(source="actor_agency.name", allow_null=True, default=None)
    detail = serializers.JSONField()


class CaseTaskSerializer(serializers.ModelSerializer):
    """A task of the caller's agency on the case: what to do, for whom, by when."""

    kind = serializers.ChoiceField(choices=CaseTaskKind.choices, read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = CaseTask
        fields = [
            "id",
            "kind",
            "kind_display",
            "agency",
            "assignee",
            "due_on",
            "is_overdue",
            "created_at",
            "done_at",
            "done_by",
        ]
        read_only_fields = fields
