from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.models import AuthToken
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.auth import SignedInApiRequest
from audit.audit_actions import AuthAction
from audit.record import record

from .. import access, second_factor, services
from ..auth import TokenAuthentication
from ..models import Agency, Membership, Partnership, SharingGroup
from ..permissions import MANAGE_AGENCY_USERS
from ..throttles import SignInAddressThrottle, SignInUsernameThrottle
from .serializers import (
    AgencySerializer,
    MemberRoleSerializer,
    MemberSerializer,
    MeSerializer,
    PartnershipSerializer,
    SharingGroupSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)


class TokenView(APIView):
    """``POST`` a username and password for an expiring API token; ``DELETE`` to revoke
    the token the request is made with. Tokens are stored hashed (django-rest-knox)."""

    throttle_classes = [SignInAddressThrottle, SignInUsernameThrottle]
    # Tokens only: logging in must not depend on a browser session (or its CSRF check).
    authentication_classes = [TokenAuthentication]

    def get_permissions(self) -> list[Any]:
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            201: TokenSerializer,
            401: OpenApiResponse(description="No valid second factor, or wrong credentials."),
        },
        auth=[],
        description=(
            "An expiring API token for a username, password and second factor ('otp': the "
            "code the user's authenticator app shows now, or one of their recovery codes). "
            "Without a valid otp the answer is 401 and nothing is issued."
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user, device = serializer.validated_data["user"], serializer.validated_data["device"]
        instance, token = AuthToken.objects.create(user)
        second_factor.failures_reset(user)
        record(
            AuthAction.SECOND_FACTOR_PASSED,
            actor=user,
            target=user,
            detail={"device": second_factor.device_kind(device), "door": "api_token"},
        )
        if second_factor.device_kind(device) == "recovery_code":
            record(AuthAction.RECOVERY_CODE_USED, actor=user, target=user, detail={"door": "api"})
        record(AuthAction.TOKEN_CREATED, actor=user, detail={"token_key": instance.token_key})
        return Response({"token": token, "expiry": instance.expiry}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        if isinstance(request.auth, AuthToken):
            record(
                AuthAction.TOKEN_REVOKED,
                actor=request.user,
                detail={"token_key": request.auth.token_key},
            )
            request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: SignedInApiRequest) -> Response:
        user = request.user
        membership = access.active_membership(user)
        role = membership.role if membership else None
        data = {
            "id": user.pk,
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "agency": membership.agency if membership else None,
            "role": role,
            "capabilities": sorted(
                p for p, roles in access.capabilities().items() if role in roles
            ),
        }
        return Response(MeSerializer(data).data)


class AgencyViewSet(viewsets.ReadOnlyModelViewSet):
    """The directory of active agencies: names and kinds, which every user may read."""

    serializer_class = AgencySerializer
    queryset = Agency.objects.filter(active=True).order_by("name")


class PartnershipViewSet(viewsets.ReadOnlyModelViewSet):
    """The partnerships the caller's agency belongs to."""

    serializer_class = PartnershipSerializer

    def get_queryset(self) -> Any:
        membership = access.active_membership(self.request.user)
        return (
            Partnership.objects.of_agency(membership.agency if membership else None)
            .prefetch_related("agencies")
            .order_by("name")
        )


class SharingGroupViewSet(viewsets.ReadOnlyModelViewSet):
    """Sharing groups the caller's agency owns or belongs to (membership is visible
    only to members)."""

    serializer_class = SharingGroupSerializer

    def get_queryset(self) -> Any:
        membership = access.active_membership(self.request.user)
        return (
            SharingGroup.objects.for_agency(membership.agency if membership else None)
            .select_related("owner")
            .prefetch_related("members")
            .order_by("name")
        )


class MemberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Users of the caller's agency, for its agency admins. Other roles get 403 on every
    route (checked before any lookup); another agency's member is 404 and audited, the
    same as in the browser."""

    serializer_class = MemberSerializer
    filterset_fields = ["role"]

    def get_queryset(self) -> Any:
        return (
            Membership.objects.manageable_by(self.request.user)
            .select_related("user")
            .order_by("user__username")
        )

    def get_object(self) -> Membership:
        self._require_manager()
        return access.get_visible_or_404(
            Membership.objects.select_related("user"),
            self.request.user,
            MANAGE_AGENCY_USERS,
            pk=self.kwargs["pk"],
        )

    def _require_manager(self) -> None:
        if not access.user_may(self.request.user, MANAGE_AGENCY_USERS):
            raise PermissionDenied("Only an agency administrator may manage users.")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._require_manager()
        return super().list(request, *args, **kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._require_manager()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        manager = access.active_membership(request.user)
        if manager is None:  # _require_manager let them in: they hold a membership
            raise PermissionDenied("Only an agency administrator may manage users.")
        membership = services.membership_create(
            actor=request.user,
            agency=manager.agency,
            username=data["user"]["username"],
            email=data["user"]["email"],
            first_name=data["user"].get("first_name", ""),
            last_name=data["user"].get("last_name", ""),
            role=data["role"],
            password=data.get("password") or None,
        )
        return Response(self.get_serializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MemberRoleSerializer, responses=MemberSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = self.get_object()
        serializer = MemberRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_change_role(
            actor=request.user, membership=membership, role=serializer.validated_data["role"]
        )
        return Response(self.get_serializer(membership).data)

    @extend_schema(request=None, responses=MemberSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str | None = None) -> Response:
        membership = services.membership_deactivate(
            actor=request.user, membership=self.get_object()
        )
        return Response(self.get_serializer(membership).data)

    @extend_schema(request=None, responses=MemberSerializer)
    @action(detail=True, methods=["post"], url_path="reset-second-factor")
    def reset_second_factor(self, request: Request, pk: str | None = None) -> Response:
        """Remove every second factor of the member (lost phone or key): they are signed
        out everywhere, told, and set up a new one at their next sign-in. Audited."""
        membership = self.get_object()
        services.member_second_factors_reset(actor=request.user, membership=membership)
        return Response(self.get_serializer(membership).data)

    @extend_schema(request=None, responses=MemberSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request: Request, pk: str | None = None) -> Response:
        membership = services.membership_reactivate(
            actor=request.user, membership=self.get_object()
        )
        return Response(self.get_serializer(membership).data)
