from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import Agency, Membership, Partnership, Role, SharingGroup


class TokenRequestSerializer(serializers.Serializer):
    """A token needs the second factor as well as the password: ``otp`` is the
    code an authenticator app shows now, or one of the user's recovery codes. Any wrong
    part is the same 401, so the answer never says whether the password was right."""

    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    otp = serializers.CharField(
        required=False,
        max_length=32,
        help_text=_(
            "The 6-digit code of the user's authenticator app, or one of their recovery codes."
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        from rest_framework.exceptions import AuthenticationFailed

        from .. import second_factor

        request = self.context.get("request")
        if not attrs.get("otp"):
            raise AuthenticationFailed(
                _(
                    "A token needs your second factor: send 'otp' with the code your "
                    "authenticator app shows, or a recovery code."
                )
            )
        user = authenticate(request=request, username=attrs["username"], password=attrs["password"])
        device = second_factor.match_code(user, attrs["otp"]) if user is not None else None
        if user is not None and device is None:
            second_factor.record_failed_code(request, user)
        if user is None or device is None:
            raise AuthenticationFailed(
                _("Unable to sign in with the username, password and code given.")
            )
        attrs["user"], attrs["device"] = user, device
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
            "subdivision",
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
    agency: serializers.PrimaryKeyRelatedField[Agency] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )
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
