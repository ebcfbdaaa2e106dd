"""The casework API: the same scoping, services and audited reads as the pages.

It answers as the pages do (the access contract): a case the caller may not see is 404
on every path under it, and so is a part of a visible case the caller may not read
(identity, location, needs, consents, notes, documents, who can see it), audited; acting
on a visible case in a way the caller may not (add a need, record consent, close...) is
403, checked before the body is read or a nested id is looked up; changing a part the
caller may not even read (PUT identity without sight of it) is 404.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.http import FileResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from agencies import access
from agencies.auth import SignedInApiRequest
from audit.models import AuditEvent
from core.api import JSONParser

from .. import case_tasks, consents, duplicates, reads, services, transfers
from ..evidence import break_glass
from ..evidence import reads as evidence_reads
from ..evidence import serializers as evidence_serializers
from ..evidence import services as evidence_services
from ..filters import CaseFilter, TaskFilter, case_list_queryset
from ..models import (
    Case,
    CaseLocation,
    CaseStatus,
    CaseTask,
    Consent,
    LeadTransfer,
    Need,
    SafeguardingFlag,
    VictimIdentity,
)
from ..permissions import (
    ADD_CASE,
    ADD_DOCUMENT,
    ADD_NOTE,
    CHANGE_CASE,
    CHANGE_CONSENTS,
    CHANGE_FLAGS,
    CHANGE_IDENTITY,
    CHANGE_LOCATION,
    CHANGE_NEEDS,
    MANAGE_CASE,
    RECORD_JUSTICE_OUTCOME,
    VIEW_CASE,
    VIEW_CASE_ACCESS,
    VIEW_CONSENTS,
    VIEW_IDENTITY,
    VIEW_LOCATION,
    VIEW_NEEDS,
    WORK_CASE_TASK,
)
from .serializers import (
    AccessSerializer,
    AuditRowSerializer,
    CaseCreateSerializer,
    CaseListSerializer,
    CaseSerializer,
    CaseTaskSerializer,
    CloseSerializer,
    ConsentSerializer,
    DismissDuplicateSerializer,
    DocumentSerializer,
    FlagSerializer,
    IdentitySerializer,
    LocationSerializer,
    NeedSerializer,
    NoteSerializer,
    PossibleDuplicateSerializer,
    ReasonSerializer,
    TransferAnswerSerializer,
    TransferSerializer,
)


def possible_duplicates(user: Any, identity: VictimIdentity) -> list[dict[str, Any]]:
    cases = reads.possible_duplicates(
        user,
        given_name=identity.given_name,
        family_name=identity.family_name,
        date_of_birth=identity.date_of_birth,
        exclude_case_id=identity.case_id,
    )
    return [{"id": case.pk, "reference": case.reference} for case in cases]


class CaseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    # The default IsAuthenticated lets only a signed-in user reach a handler, so the
    # methods DRF declares with a plain Request read the user from self.request.
    request: SignedInApiRequest
    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def get_queryset(self) -> QuerySet[Case]:
        return case_list_queryset(self.request.user)

    def get_serializer_class(self) -> type[Any]:
        if self.action == "list":
            return CaseListSerializer
        if self.action == "create":
            return CaseCreateSerializer
        return CaseSerializer

    def get_object(self) -> Case:
        case = access.get_visible_or_404(
            Case.objects.select_related("lead_agency"),
            self.request.user,
            VIEW_CASE,
            pk=self.kwargs["pk"],
        )
        self.perms = access.perms_for(self.request.user, case)
        return case

    def _require(self, perm: str) -> None:
        """The caller sees the case but may not do this to it: 403 (services refuse again;
        ``casework.views.helpers._require`` is the page's twin).

        Called before the body is validated or a nested id looked up, as the pages do,
        so the answer depends on the caller and the case only."""
        if perm not in self.perms:
            raise PermissionDenied("You may not do this on this case.")

    def _hidden_unless(self, case: Case, perm: str) -> None:
        """A part of the case the caller may not read: 404 as if it were absent, the
        refused read audited (``casework.views.helpers._hidden_unless`` is the page's twin)."""
        if perm not in self.perms:
            raise reads.hidden(self.request.user, case, perm)

    def _child_or_404(self, queryset: QuerySet[Any], case: Case, perm: str, child_id: str) -> Any:
        """A record of this case named in the URL: ``reads.child_or_404``, as the pages."""
        return reads.child_or_404(self.request.user, queryset, case, perm, child_id)

    def _page(
        self, queryset: QuerySet[Any], serializer_class: type[Any], **context: Any
    ) -> Response:
        page = self.paginate_queryset(queryset)
        data = serializer_class(page, many=True, context={"request": self.request, **context}).data
        return self.get_paginated_response(data)

    # --- the case itself -----------------------------------------------------------------

    @extend_schema(request=CaseCreateSerializer, responses={201: CaseSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Open a case led by your agency. ``status``, ``reference``, ``lead_agency`` and
        ``opened_at`` are the service's: sent, they are ignored."""
        # The role first, as the page does: a role that never opens cases gets 403
        # whatever its body says.
        if not access.user_may(self.request.user, ADD_CASE):
            raise PermissionDenied("Only caseworkers and case managers open cases.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        case = services.case_create(actor=self.request.user, **data)
        return Response(CaseSerializer(case).data, status=status.HTTP_201_CREATED)

    # PUT is a method of the route (its parts' actions take it), refused for the case
    # itself: documented as the 405 it answers, not as the 200 of an update.
    @extend_schema(
        request=None,
        responses={405: OpenApiResponse(description="Use PATCH to change a case.")},
        description="Not allowed: use PATCH to change a case.",
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not kwargs.get("partial"):
            return Response(
                {"detail": "Use PATCH to change a case."}, status=status.HTTP_405_METHOD_NOT_ALLOWED
            )
        case = self.get_object()
        self._require(CHANGE_CASE)
        serializer = self.get_serializer(case, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        target = data.pop("status", None)
        changes_status = target is not None and target != case.status
        # Refused before anything is written: a PATCH is all or nothing.
        if changes_status and target == CaseStatus.CLOSED:
            return Response(
                {"status": ["Close a case with POST /close/ and a reason."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        with transaction.atomic():
            if data:
                services.case_update(actor=self.request.user, case=case, **data)
            if changes_status:
                transition = (
                    services.case_reopen
                    if case.status == CaseStatus.CLOSED
                    else services.case_activate
                )
                transition(actor=self.request.user, case=case)
        return Response(self.get_serializer(case).data)

    # --- break-glass and justice outcomes -------------------------------------------------

    @extend_schema(
        request=evidence_serializers.BreakGlassSerializer,
        responses={201: evidence_serializers.BreakGlassSerializer},
    )
    @action(detail=True, methods=["post"], url_path="break-glass")
    def break_glass(self, request: SignedInApiRequest, pk: str) -> Response:
        # Everything that does not depend on the case is asked before the case is looked
        # up, so that no answer differs between a case that exists and one that does not:
        # an active membership (403), then what they sent (400: grounds and reason). Only
        # then the case, not scoped by what the caller sees (the breaker usually sees
        # nothing of it yet): a role without the power, or a case outside the lead
        # agency's partnership, is the 404 of a missing or malformed id (403 only to a
        # role without the power that already sees the case).
        access.require_membership(request.user)
        body = evidence_serializers.BreakGlassSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = evidence_reads.break_glass_case(pk)
        break_glass.break_glass_require_power(request.user, case)
        event = break_glass.break_glass_open(
            actor=request.user,
            case=case,
            grounds=body.validated_data["grounds"],
            reason=body.validated_data["reason"],
        )
        return Response(
            evidence_serializers.BreakGlassSerializer(event).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        methods=["GET"], responses=evidence_serializers.JusticeOutcomeSerializer(many=True)
    )
    @extend_schema(
        methods=["POST"],
        request=evidence_serializers.JusticeOutcomeSerializer,
        responses={201: evidence_serializers.JusticeOutcomeSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def outcomes(self, request: SignedInApiRequest, pk: str) -> Response:
        case = self.get_object()
        if request.method == "POST":
            # The role first, as the page does (outcomes are the police's and the
            # prosecutors' to record, on any case they see).
            if not access.user_may(request.user, RECORD_JUSTICE_OUTCOME):
                raise PermissionDenied("Only officers and prosecutors record justice outcomes.")
            # Seen through a grant to the officer alone (a break-glass): 403 before the
            # body, as the page (the service asks again).
            evidence_services.justice_outcome_require_agency_sight(request.user, case)
            body = evidence_serializers.JusticeOutcomeSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            outcome = evidence_services.justice_outcome_record(
                actor=request.user, case=case, **body.validated_data
            )
            return Response(
                evidence_serializers.JusticeOutcomeSerializer(outcome).data,
                status=status.HTTP_201_CREATED,
            )
        return self._page(
            case.justice_outcomes.all(), evidence_serializers.JusticeOutcomeSerializer
        )

    @extend_schema(request=CloseSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: SignedInApiRequest, pk: str) -> Response:
        case = self.get_object()
        self._require(MANAGE_CASE)
        body = CloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.case_close(actor=request.user, case=case, **body.validated_data)
        return Response(self.get_serializer(case).data)

    # --- identity and location -----------------------------------------------------------

    @extend_schema(methods=["GET"], responses=IdentitySerializer)
    @extend_schema(methods=["PUT"], request=IdentitySerializer, responses=IdentitySerializer)
    @action(detail=True, methods=["get", "put"])
    def identity(self, request: SignedInApiRequest, pk: str) -> Response:
        case = self.get_object()
        found: VictimIdentity | None  # a GET that finds none answers 404
        if request.method == "PUT":
            self._hidden_unless(case, VIEW_IDENTITY)
            self._require(CHANGE_IDENTITY)
            body = IdentitySerializer(data=request.data)
            body.is_valid(raise_exception=True)
            found = services.identity_save(actor=request.user, case=case, **body.validated_data)
        else:
            found = reads.identity(request.user, case, perms=self.perms)
            if found is None:
                raise NotFound("No identity has been recorded for this case yet.")
        context = {"possible_duplicates": possible_duplicates(request.user, found)}
        return Response(IdentitySerializer(found, context=context).data)

    @extend_schema(responses=PossibleDuplicateSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="possible-duplicates", pagination_class=None)
    def possible_duplicates(self, request: Request, pk: str) -> Response:
        """Agencies of your partnerships that may know this person: which
        agency and how to reach it, never its case. 404 without sight of the identity."""
        case = self.get_object()
        hits = duplicates.for_case(request.user, case, perms=self.perms)
        return Response(PossibleDuplicateSerializer(hits, many=True).data)

    @extend_schema(request=DismissDuplicateSerializer, responses=PossibleDuplicateSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path=r"possible-duplicates/(?P<hit_id>[0-9]+)/dismiss",
    )
    def dismiss_possible_duplicate(
        self, request: SignedInApiRequest, pk: str, hit_id: str
    ) -> Response:
        """Not the same person, with a reason: neither agency is told of the match again
        unless a name or the date of birth changes. 409 if it was already answered."""
        case = self.get_object()
        self._hidden_unless(case, VIEW_IDENTITY)
        self._require(CHANGE_IDENTITY)
        hit = duplicates.hit_or_404(request.user, case, hit_id)
        body = DismissDuplicateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        duplicates.dismiss(actor=request.user, hit=hit, reason=body.validated_data["reason"])
        return Response(PossibleDuplicateSerializer(hit).data)

    @extend_schema(methods=["GET"], responses=LocationSerializer)
    @extend_schema(methods=["PUT"], request=LocationSerializer, responses=LocationSerializer)
    @action(detail=True, methods=["get", "put"])
    def location(self, request: SignedInApiRequest, pk: str) -> Response:
        case = self.get_object()
        current: CaseLocation | None  # a GET that finds none answers 404
        if request.method == "PUT":
            self._hidden_unless(case, VIEW_LOCATION)
            self._require(CHANGE_LOCATION)
            body = LocationSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            current = services.location_set(actor=request.user, case=case, **body.validated_data)
        else:
            current, _history = reads.location(request.user, case, perms=self.perms)
            if current is None:
                raise NotFound("No location has been recorded for this case yet.")
        return Response(LocationSerializer(current).data)

    # --- needs -------------------------------------------------------------------------

    @extend_schema(methods=["GET"], responses=NeedSerializer(many=True))
    @extend_schema(methods=["POST"], request=NeedSerializer, responses={201: NeedSerializer})
    @action(detail=True, methods=["get", "post"])
    def needs(self, request: SignedInApiRequest, pk: str) -> Response:
        case = self.get_object()
        if request.method == "POST":
            self._require(CHANGE_NEEDS)
            body = NeedSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            need = services.need_add(actor=request.user, case=case, **body.validated_data)
            return Response(NeedSerializer(need).data, status=status.HTTP_201_CREATED)
        self._hidden_unless(case, VIEW_NEEDS)
        return self._page(
            Need.objects.filter(case=case).order_by("urgency", "target_date", "id"),
            NeedSerializer,
        )

    @extend_schema(request=NeedSerializer, responses=NeedSerializer)
    @action(detail=True, methods=["patch"], url_path=r"needs/(?P<need_id>[0-9]+)")
    def need(self, request: SignedInApiRequest, pk: str, need_id: str) -> Response:
        case = self.get_object()
        self._hidden_unless(case, VIEW_NEEDS)
        self._require(CHANGE_NEEDS)
        need = self._child_or_404(Need.objects.select_related("case"), case, VIEW_NEEDS, need_id)
        body = NeedSerializer(need, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        services.need_update(actor=request.user, need=need, **body.validated_data)
        return Response(NeedSerializer(need).data)

    # --- consents ----------------------------------------------------------------------

    @extend_schema(methods=["GET"], responses=ConsentSerializer(many=True))
    @extend_schema(methods=["POST"], request=ConsentSerializer, responses={201: ConsentSerializer})
    @action(detail=True, methods=["get", "post"])
    def consents(self, request: SignedInApiRequest, pk: str) -> Response:
        case = self.get_object()
        if request.method == "POST":
            self._require(CHANGE_CONSENTS)
            body = ConsentSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            consent = consents.consent_record(actor=request.user, case=case, **body.validated_data)
            return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)
        self._hidden_unless(case, VIEW_CONSENTS)
        return self._page(Consent.objects.filter(case=case), ConsentSerializer)

    @extend_schema(request=ReasonSerializer, responses=ConsentSerializer)
    @action(detail=True, methods=["post"], url_path=r"consents/(?P<consent_id>[0-9]+)/withdraw")
    def withdraw_consent(self, request: SignedInApiRequest, pk: str, consent_id: str) -> Response:
        case = self.get_object()
        self._hidden_unless(case, VIEW_CONSENTS)
        self._require(CHANGE_CONSENTS)
        consent = self._child_or_404(
            Consent.objects.select_related("case"), case, VIEW_CONSENTS, consent_id
        )
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        consents.consent_withdraw(
            actor=request.user, consent=consent, reason=body.validated_data["reason"]
        )
        return Response(ConsentSerializer(consent).data)

    # --- notes and flags ----------------------------------------------------------------

    @extend_schema(methods=["GET"], responses=NoteSerializer(many=True))
    @extend_schema(methods=["POST"], request=NoteSerializer, responses={201: NoteSerializer})
    @action(detail=True, methods=["get", "post"])
    def notes(self, request: SignedInApiRequest, pk: str) -> Response:
        case = self.get_object()
        if request.method == "POST":
            self._require(ADD_NOTE)
            body = NoteSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            note = services.note_add(actor=request.user, case=case, **body.validated_data)
            return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)
        return self._page(reads.notes(request.user, case, perms=self.perms), NoteSerializer)

    @extend_schema(methods=["GET"], responses=FlagSerializer(many=True))
    @extend_schema(methods=["POST"], request=FlagSerializer, responses={201: FlagSerializer})
    @action(detail=True, methods=["get", "post"])
    def flags(self, request: SignedInApiRequest, pk: str) -> Response:
        case = self.get_object()
        if request.method == "POST":
            self._require(CHANGE_FLAGS)
            body = FlagSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            flag = services.flag_raise(actor=request.user, case=case, **body.validated_data)
            return Response(FlagSerializer(flag).data, status=status.HTTP_201_CREATED)
        # Flags travel with the case summary: whoever sees the case sees its flags.
        return self._page(SafeguardingFlag.objects.filter(case=case), FlagSerializer)

    @extend_schema(request=None, responses=FlagSerializer)
    @action(detail=True, methods=["post"], url_path=r"flags/(?P<flag_id>[0-9]+)/clear")
    def clear_flag(self, request: SignedInApiRequest, pk: str, flag_id: str) -> Response:
        case = self.get_object()
        self._require(CHANGE_FLAGS)
        flag = self._child_or_404(
            SafeguardingFlag.objects.select_related("case"), case, VIEW_CASE, flag_id
        )
        services.flag_clear(actor=request.user, flag=flag)
        return Response(FlagSerializer(flag).data)

    # --- documents -----------------------------------------------------------------------

    @extend_schema(methods=["GET"], responses=DocumentSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": DocumentSerializer},
        responses={201: DocumentSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def documents(self, request: SignedInApiRequest, pk: str) -> Response:
        case = self.get_object()
        if request.method == "POST":
            self._require(ADD_DOCUMENT)
            body = DocumentSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            data = dict(body.validated_data)
            document = services.document_upload(
                actor=request.user, case=case, uploaded_file=data.pop("file"), **data
            )
            return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)
        return self._page(reads.documents(request.user, case, perms=self.perms), DocumentSerializer)

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"], url_path=r"documents/(?P<doc_id>[0-9]+)/download")
    def document_download(self, request: Request, pk: str, doc_id: str) -> FileResponse:
        case = self.get_object()
        document = reads.document_for_download(request.user, case, int(doc_id))
        return FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=document.original_name,
            content_type=document.content_type,
        )

    # --- lead transfer -----------------------------------------------------------------

    @extend_schema(request=TransferSerializer, responses=TransferSerializer)
    @action(detail=True, methods=["post"])
    def transfer(self, request: SignedInApiRequest, pk: str) -> Response:
        case = self.get_object()
        self._require(MANAGE_CASE)
        body = TransferSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        transfer = transfers.transfer_propose(actor=request.user, case=case, **body.validated_data)
        return Response(TransferSerializer(transfer).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=TransferAnswerSerializer,
        responses=TransferSerializer,
        operation_id="cases_transfer_answer",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"transfer/(?P<transfer_id>[0-9]+)/(?P<decision>accept|decline|withdraw)",
    )
    def answer_transfer(
        self, request: SignedInApiRequest, pk: str, transfer_id: str, decision: str
    ) -> Response:
        case = self.get_object()
        transfer = self._child_or_404(
            LeadTransfer.objects.select_related("case", "to_agency"), case, VIEW_CASE, transfer_id
        )
        body = TransferAnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if decision == "accept":
            transfers.transfer_accept(actor=request.user, transfer=transfer)
        elif decision == "decline":
            transfers.transfer_decline(
                actor=request.user, transfer=transfer, note=body.validated_data["note"]
            )
        else:
            transfers.transfer_withdraw(actor=request.user, transfer=transfer)
        return Response(TransferSerializer(transfer).data)

    # --- tasks ----------------------------------------------------------------

    @extend_schema(
        parameters=[OpenApiParameter("open", bool, description="Only tasks not done yet.")],
        responses=CaseTaskSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def tasks(self, request: Request, pk: str) -> Response:
        """Your agency's tasks on the case, open first (``?open=true``: open ones only).
        Another agency's tasks are not listed: a task is its agency's work."""
        case = self.get_object()
        tasks = TaskFilter(
            request.query_params,
            queryset=CaseTask.objects.visible_to(request.user)
            .filter(case=case)
            .select_related("case")
            .order_by(F("done_at").desc(nulls_first=True), "due_on", "id"),
        )
        if not tasks.is_valid():
            raise ValidationError(tasks.errors)
        return self._page(tasks.qs, CaseTaskSerializer)

    @extend_schema(request=None, responses=CaseTaskSerializer)
    @action(detail=True, methods=["post"], url_path=r"tasks/(?P<task_id>[0-9]+)/done")
    def task_done(self, request: SignedInApiRequest, pk: str, task_id: str) -> Response:
        """Mark a task of your agency done: 403 for a role that does not work tasks, 404
        for a task that is not your agency's, 409 if it was already done."""
        case = self.get_object()
        # The role first, before the id is looked up, as the page does.
        if not access.user_may(request.user, WORK_CASE_TASK):
            raise PermissionDenied("You may not do this on this case.")
        task = self._child_or_404(
            CaseTask.objects.visible_to(request.user).select_related("case"),
            case,
            VIEW_CASE,
            task_id,
        )
        case_tasks.task_complete(actor=request.user, task=task)
        return Response(CaseTaskSerializer(task).data)

    # --- who can see it, who saw it ------------------------------------------------------

    @extend_schema(responses=AccessSerializer)
    @action(detail=True, methods=["get"])
    def access(self, request: Request, pk: str) -> Response:
        case = self.get_object()
        self._hidden_unless(case, VIEW_CASE_ACCESS)
        data = {"grants": access.grants_on(case), "you": access.explain(request.user, case)}
        return Response(AccessSerializer(data).data)

    @extend_schema(responses=AuditRowSerializer(many=True))
    @action(detail=True, methods=["get"])
    def audit(self, request: Request, pk: str) -> Response:
        case = self.get_object()
        self._hidden_unless(case, VIEW_CASE_ACCESS)
        events = AuditEvent.objects.filter(case_id=case.pk).select_related("actor", "actor_agency")
        return self._page(events, AuditRowSerializer)
