from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import Agency, Membership, Partnership, Role, SharingGroup


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = authenticate(
            request=self.context.get("request"),
            username=attrs["username"],
            password=attrs["password"],
        )
        if user is None:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Unable to log in with the username and password given.")]},
                code="authorization",
            )
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)


class AgencySerializer(serializers.ModelSerializer):
    class Meta:
        model = Agency
        fields = [
            "id",
            "name",
            "kind",
            "country",
            "region",
            "is_first_responder",
            "intelligence_contact",
        ]


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.EmailField()
    agency = AgencySerializer(allow_null=True)
    role = serializers.CharField(allow_null=True)
    capabilities = serializers.ListField(child=serializers.CharField())


class MemberSerializer(serializers.ModelSerializer):
    """A user of the caller's agency, as its agency admin manages them."""

    username = serializers.CharField(source="user.username", max_length=150)
    email = serializers.EmailField(source="user.email")
    first_name = serializers.CharField(
        source="user.first_name", max_length=150, required=False, allow_blank=True
    )
    last_name = serializers.CharField(
        source="user.last_name", max_length=150, required=False, allow_blank=True
    )
    is_active = serializers.BooleanField(source="user.is_active", read_only=True)
    agency = serializers.PrimaryKeyRelatedField(read_only=True)
    role = serializers.ChoiceField(choices=Role.choices)
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        style={"input_type": "password"},
        help_text="Optional. Without it, the user is emailed an invitation to choose one.",
    )

    class Meta:
        model = Membership
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "agency",
            "is_active",
            "password",
        ]


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class PartnershipSerializer(serializers.ModelSerializer):
    agencies = AgencySerializer(many=True, read_only=True)

    class Meta:
        model = Partnership
        fields = ["id", "name", "agreement_reference", "starts_on", "ends_on", "agencies"]


class SharingGroupSerializer(serializers.ModelSerializer):
    owner = AgencySerializer(read_only=True)
    members = AgencySerializer(many=True, read_only=True)

    class Meta:
        model = SharingGroup
        fields = ["id", "name", "owner", "members"]
