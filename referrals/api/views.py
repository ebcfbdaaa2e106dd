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
from agencies.auth import SignedInApiRequest
from casework.models import Case
from casework.permissions import VIEW_CASE

from .. import nrm_services, services
from ..deadlines import deadlines_for
from ..models import NRMReconsideration, NRMReferral, Referral
from ..permissions import ADD_DUTY_TO_NOTIFY, ADD_NRM, CHANGE_NRM, VIEW_NRM, VIEW_REFERRAL
from .serializers import (
    DeadlineSerializer,
    DeclineSerializer,
    DutyToNotifySerializer,
    NRMSerializer,
    ReconsiderationOutcomeSerializer,
    ReconsiderationSerializer,
    ReferralSerializer,
    WithdrawSerializer,
)


class ReferralViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Referrals to or from the caller's agency (``Referral.objects.visible_to``), as in
    the inbox. A role that never works with referrals is refused (403) before any id is
    looked up; a referral the caller may not see is 404 (audited)."""

    # The default IsAuthenticated lets only a signed-in user reach a handler, so the
    # methods DRF declares with a plain Request read the user from self.request.
    request: SignedInApiRequest
    serializer_class = ReferralSerializer
    filterset_fields = ["status", "kind", "urgency"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.action == "create":
            if not services.may_ever_refer(self.request.user):
                raise PermissionDenied("Your role does not make referrals.")
        elif not access.user_may(self.request.user, VIEW_REFERRAL):
            raise PermissionDenied("Your role does not work with referrals.")

    def get_queryset(self) -> QuerySet[Referral]:
        return Referral.objects.visible_to(self.request.user, VIEW_REFERRAL).select_related("case")

    def get_object(self) -> Referral:
        referral = access.get_visible_or_404(
            Referral.objects.select_related("case", "from_agency", "to_agency"),
            self.request.user,
            VIEW_REFERRAL,
            pk=self.kwargs["pk"],
        )
        self.check_object_permissions(self.request, referral)
        return referral

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Every id in the body resolves through the caller's scoping (the serializer):
        # a hidden case and a missing one are the same 400 field error.
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        case = data.pop("case")
        referral = services.referral_send(actor=self.request.user, case=case, **data)
        return Response(self.get_serializer(referral).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: SignedInApiRequest, pk: str) -> Response:
        referral = services.referral_accept(actor=request.user, referral=self.get_object())
        return Response(self.get_serializer(referral).data)

    @extend_schema(request=DeclineSerializer, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: SignedInApiRequest, pk: str) -> Response:
        body = DeclineSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        referral = services.referral_decline(
            actor=request.user, referral=self.get_object(), reason=body.validated_data["reason"]
        )
        return Response(self.get_serializer(referral).data)

    @extend_schema(request=None, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: SignedInApiRequest, pk: str) -> Response:
        referral = services.referral_withdraw(actor=request.user, referral=self.get_object())
        return Response(self.get_serializer(referral).data)

    @extend_schema(request=None, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request: SignedInApiRequest, pk: str) -> Response:
        referral = services.referral_complete(actor=request.user, referral=self.get_object())
        return Response(self.get_serializer(referral).data)


def _nrm_case(request: Request, case_pk: str, capability: str) -> Case:
    """The case of an NRM route: the role first (403, before any id is looked up), then
    the case through the caller's scoping (404, audited when hidden)."""
    if not access.user_may(request.user, capability):
        raise PermissionDenied("Your role does not work with NRM referrals.")
    return access.get_visible_or_404(
        Case.objects.select_related("lead_agency"), request.user, VIEW_CASE, pk=case_pk
    )


class CaseNRMViewSet(viewsets.ViewSet):
    """``/api/v1/cases/{case_pk}/nrm/``: NRM referrals of a case, and their decisions.

    Read by everyone who sees the case and works with the NRM; changed only by the agency
    that made the referral or the case's lead agency (``NRMReferral.objects.visible_to``):
    anyone else who sees the record gets 403, anyone who does not, 404.
    """

    @extend_schema(responses=NRMSerializer(many=True))
    def list(self, request: Request, case_pk: str) -> Response:
        case = _nrm_case(request, case_pk, VIEW_NRM)
        rows = (
            NRMReferral.objects.visible_to(request.user, VIEW_NRM)
            .filter(case=case)
            .select_related("agency")
            .prefetch_related("reconsiderations")
        )
        context = {"changeable": _changeable(request, case)}
        return Response(NRMSerializer(rows, many=True, context=context).data)

    @extend_schema(request=NRMSerializer, responses=NRMSerializer)
    def create(self, request: SignedInApiRequest, case_pk: str) -> Response:
        case = _nrm_case(request, case_pk, ADD_NRM)
        body = NRMSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        nrm = nrm_services.nrm_refer(
            actor=request.user, case=case, submitted_at=body.validated_data.get("submitted_at")
        )
        return Response(NRMSerializer(nrm).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=NRMSerializer, responses=NRMSerializer)
    def partial_update(self, request: SignedInApiRequest, case_pk: str, pk: str) -> Response:
        case = _nrm_case(request, case_pk, CHANGE_NRM)
        nrm = access.get_visible_or_404(
            NRMReferral.objects.select_related("agency", "case"),
            request.user,
            VIEW_NRM,
            case=case,
            pk=pk,
        )
        nrm_services.require_nrm_changer(request.user, nrm)
        body = NRMSerializer(nrm, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        fields = {k: v for k, v in body.validated_data.items() if k in nrm_services.NRM_FIELDS}
        nrm = nrm_services.nrm_update(actor=request.user, nrm=nrm, **fields)
        return Response(NRMSerializer(nrm, context={"changeable": {nrm.pk}}).data)


def _changeable(request: Request, case: Case) -> set[int]:
    return set(
        NRMReferral.objects.visible_to(request.user, CHANGE_NRM)
        .filter(case=case)
        .values_list("pk", flat=True)
    )


def _nrm_to_change(request: SignedInApiRequest, case_pk: str, pk: str) -> NRMReferral:
    """An NRM record the caller changes: the role (403), the case and the record through
    the caller's scoping (404), then the change rule (403) before the body is read."""
    case = _nrm_case(request, case_pk, CHANGE_NRM)
    nrm = access.get_visible_or_404(
        NRMReferral.objects.select_related("agency", "case__lead_agency"),
        request.user,
        VIEW_NRM,
        case=case,
        pk=pk,
    )
    nrm_services.require_nrm_changer(request.user, nrm)
    return nrm


class NRMWithdrawView(APIView):
    """``POST /api/v1/cases/{case_pk}/nrm/{pk}/withdraw/``: the person leaves the NRM."""

    @extend_schema(request=WithdrawSerializer, responses=NRMSerializer)
    def post(self, request: SignedInApiRequest, case_pk: str, pk: str) -> Response:
        nrm = _nrm_to_change(request, case_pk, pk)
        body = WithdrawSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        nrm = nrm_services.nrm_withdraw(actor=request.user, nrm=nrm, **body.validated_data)
        return Response(NRMSerializer(nrm, context={"changeable": {nrm.pk}}).data)


class NRMReconsiderationView(APIView):
    """``POST /api/v1/cases/{case_pk}/nrm/{pk}/reconsiderations/``: a request to reconsider
    the record's negative decision."""

    @extend_schema(request=ReconsiderationSerializer, responses=ReconsiderationSerializer)
    def post(self, request: SignedInApiRequest, case_pk: str, pk: str) -> Response:
        nrm = _nrm_to_change(request, case_pk, pk)
        body = ReconsiderationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = nrm_services.nrm_reconsideration_request(
            actor=request.user, nrm=nrm, **body.validated_data
        )
        data = ReconsiderationSerializer(row, context={"changeable": {nrm.pk}}).data
        return Response(data, status=status.HTTP_201_CREATED)


class NRMReconsiderationOutcomeView(APIView):
    """``POST .../reconsiderations/{rid}/outcome/``: the competent authority's answer."""

    @extend_schema(request=ReconsiderationOutcomeSerializer, responses=ReconsiderationSerializer)
    def post(self, request: SignedInApiRequest, case_pk: str, pk: str, rid: str) -> Response:
        nrm = _nrm_to_change(request, case_pk, pk)
        row = get_object_or_404(NRMReconsideration.objects.filter(nrm=nrm), pk=rid)
        row.nrm = nrm
        body = ReconsiderationOutcomeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = nrm_services.nrm_reconsideration_outcome(
            actor=request.user, reconsideration=row, **body.validated_data
        )
        return Response(ReconsiderationSerializer(row, context={"changeable": {nrm.pk}}).data)


class NRMDeclinedView(APIView):
    """``POST /api/v1/cases/{case_pk}/nrm-declined/``: the adult declined an NRM referral
    (an MS1 task follows where the duty to notify applies)."""

    @extend_schema(request=None, responses={201: None})
    def post(self, request: SignedInApiRequest, case_pk: str) -> Response:
        case = _nrm_case(request, case_pk, ADD_NRM)
        decline = nrm_services.nrm_declined(actor=request.user, case=case)
        return Response(
            {"id": decline.pk, "recorded_at": decline.recorded_at},
            status=status.HTTP_201_CREATED,
        )


class DutyToNotifyView(APIView):
    @extend_schema(request=DutyToNotifySerializer, responses=DutyToNotifySerializer)
    def post(self, request: SignedInApiRequest, case_pk: str) -> Response:
        case = _nrm_case(request, case_pk, ADD_DUTY_TO_NOTIFY)
        body = DutyToNotifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ms1 = nrm_services.duty_to_notify_file(actor=request.user, case=case, **body.validated_data)
        return Response(DutyToNotifySerializer(ms1).data, status=status.HTTP_201_CREATED)


class DeadlinesView(APIView):
    @extend_schema(responses=DeadlineSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(DeadlineSerializer(deadlines_for(request.user), many=True).data)
