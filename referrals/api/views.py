"""Referrals API: the same services and agency scoping as the inbox pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies import access
from casework.models import Case

from .. import services
from ..deadlines import deadlines_for
from ..models import NRMReferral, Referral
from . import serializers as s


def visible_referrals(user: Any) -> QuerySet[Referral]:
    """Referrals to or from the user's agency, for roles that work with referrals."""
    membership = access.active_membership(user)
    if membership is None or not access.role_may(membership.role, "referrals.view_referral"):
        return Referral.objects.none()
    return Referral.objects.for_agency(membership.agency_id).select_related("case")


class ReferralViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = s.ReferralSerializer
    filterset_fields = ["status", "kind", "urgency"]

    def get_queryset(self) -> QuerySet[Referral]:
        return visible_referrals(self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        # The case must be one the caller sees; otherwise it does not exist for them.
        case = access.get_visible_or_404(
            Case.objects.all(), request.user, "casework.view_case", pk=data.pop("case").pk
        )
        outcome_id = data.pop("justice_outcome_id", None)
        if outcome_id is not None:
            # Only an outcome on this case: any other id is the same "no such outcome".
            data["justice_outcome"] = case.justice_outcomes.filter(pk=outcome_id).first()
            if data["justice_outcome"] is None:
                return Response(
                    {"justice_outcome": ["There is no such justice outcome on this case."]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
        referral = services.referral_send(actor=request.user, case=case, **data)
        return Response(self.get_serializer(referral).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.ReferralSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str) -> Response:
        referral = services.referral_accept(actor=request.user, referral=self.get_object())
        return Response(self.get_serializer(referral).data)

    @extend_schema(request=s.DeclineSerializer, responses=s.ReferralSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str) -> Response:
        body = s.DeclineSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        referral = services.referral_decline(
            actor=request.user, referral=self.get_object(), reason=body.validated_data["reason"]
        )
        return Response(self.get_serializer(referral).data)

    @extend_schema(request=None, responses=s.ReferralSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        referral = services.referral_withdraw(actor=request.user, referral=self.get_object())
        return Response(self.get_serializer(referral).data)

    @extend_schema(request=None, responses=s.ReferralSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str) -> Response:
        referral = services.referral_complete(actor=request.user, referral=self.get_object())
        return Response(self.get_serializer(referral).data)


def _nrm_case(request: Request, case_pk: str) -> Case:
    case = access.get_visible_or_404(
        Case.objects.select_related("lead_agency"), request.user, "casework.view_case", pk=case_pk
    )
    if not access.user_may(request.user, "referrals.view_nrmreferral"):
        raise PermissionDenied("Your role does not work with NRM referrals.")
    return case


class CaseNRMViewSet(viewsets.ViewSet):
    """``/api/v1/cases/{case_pk}/nrm/``: NRM referrals of a case, and their decisions."""

    @extend_schema(responses=s.NRMSerializer(many=True))
    def list(self, request: Request, case_pk: str) -> Response:
        case = _nrm_case(request, case_pk)
        rows = NRMReferral.objects.filter(case=case).select_related("agency")
        return Response(s.NRMSerializer(rows, many=True).data)

    @extend_schema(request=s.NRMSerializer, responses=s.NRMSerializer)
    def create(self, request: Request, case_pk: str) -> Response:
        case = _nrm_case(request, case_pk)
        body = s.NRMSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        nrm = services.nrm_refer(
            actor=request.user, case=case, submitted_at=body.validated_data.get("submitted_at")
        )
        return Response(s.NRMSerializer(nrm).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.NRMSerializer, responses=s.NRMSerializer)
    def partial_update(self, request: Request, case_pk: str, pk: str) -> Response:
        case = _nrm_case(request, case_pk)
        nrm = get_object_or_404(
            NRMReferral.objects.select_related("agency", "case"), case=case, pk=pk
        )
        body = s.NRMSerializer(nrm, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        fields = {k: v for k, v in body.validated_data.items() if k in services.NRM_FIELDS}
        nrm = services.nrm_update(actor=request.user, nrm=nrm, **fields)
        return Response(s.NRMSerializer(nrm).data)


class DutyToNotifyView(APIView):
    @extend_schema(request=s.DutyToNotifySerializer, responses=s.DutyToNotifySerializer)
    def post(self, request: Request, case_pk: str) -> Response:
        case = _nrm_case(request, case_pk)
        body = s.DutyToNotifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ms1 = services.duty_to_notify_file(actor=request.user, case=case, **body.validated_data)
        return Response(s.DutyToNotifySerializer(ms1).data, status=status.HTTP_201_CREATED)


class DeadlinesView(APIView):
    @extend_schema(responses=s.DeadlineSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(s.DeadlineSerializer(deadlines_for(request.user), many=True).data)
