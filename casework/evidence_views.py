"""Pages of evidence requests (issue 6): an officer asks, the lead agency decides, the
officer sees what they hold. The same services and scoping as the API."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from agencies import access
from agencies.errors import IllegalTransition
from agencies.forms import apply_service_errors

from . import evidence
from .evidence_forms import (
    EvidenceApproveForm,
    EvidenceRequestForm,
    ReasonForm,
    as_items,
    item_label,
)
from .models import GRANTING_STATUSES, EvidenceRequestStatus
from .views import _case, _child_form, _data


@login_required
@require_safe
def evidence_list(request: HttpRequest) -> HttpResponse:
    """An officer's requests and what they hold now; the lead agency's requests to decide."""
    requests = list(evidence.visible_requests(request.user).order_by("-requested_at", "-id")[:100])
    now = timezone.now()
    for found in requests:
        found.holding = found.status in GRANTING_STATUSES and found.expires_at > now
        found.item_rows = [(item, item_label(item)) for item in found.items.all()]
    return render(request, "casework/evidence_list.html", {"requests": requests})


@login_required
def evidence_request_new(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    if not access.user_may(request.user, "casework.request_evidence"):
        raise PermissionDenied(_("Only police officers ask for evidence."))
    form = EvidenceRequestForm(_data(request), case=case)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            made = evidence.evidence_request_create(
                actor=request.user,
                case=case,
                purpose=data["purpose"],
                crime_reference=data["crime_reference"],
                legal_basis=data["legal_basis"],
                items=as_items(data["items"]),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Your request was sent to the lead agency."))
            return redirect("casework:evidence_request", pk=case.pk, request_id=made.pk)
    return _child_form(
        request,
        case,
        form,
        title=_("Ask for evidence"),
        submit=_("Send the request"),
        intro=_(
            "The lead agency decides with the person. You see what exists, not its content, "
            "until an item is approved for you."
        ),
    )


def _decide(request: HttpRequest, found: Any, action: str) -> Any:
    """Run one decision; returns a form with errors, or None when it went through."""
    user = request.user
    if action == "approve":
        form = EvidenceApproveForm(request.POST, request=found)
        if not form.is_valid():
            return form
        data = form.cleaned_data
        ends = None
        if data["expires_on"]:
            ends = timezone.make_aware(
                datetime.datetime.combine(data["expires_on"], datetime.time(23, 59))
            )
        try:
            evidence.evidence_request_approve(
                actor=user,
                request=found,
                items=as_items(data["items"]),
                victim_consulted=data["victim_consulted"],
                expires_at=ends,
                note=data["note"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
            return form
        return None
    if action in {"decline", "revoke"}:
        form = ReasonForm(request.POST)
        if not form.is_valid():
            return form
        service = (
            evidence.evidence_request_decline
            if action == "decline"
            else evidence.evidence_request_revoke
        )
        service(actor=user, request=found, reason=form.cleaned_data["reason"])
        return None
    if action == "withdraw":
        evidence.evidence_request_withdraw(actor=user, request=found)
        return None
    raise Http404


@login_required
def evidence_request_detail(request: HttpRequest, pk: int, request_id: int) -> HttpResponse:
    found = evidence.visible_requests(request.user).filter(case_id=pk, pk=request_id).first()
    if found is None:
        raise Http404
    may_decide = access.can(request.user, "casework.decide_evidence", found.case)
    forms: dict[str, Any] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            failed = _decide(request, found, action)
        except IllegalTransition as error:
            messages.error(request, " ".join(error.messages))
            failed = None
        if failed is None:
            return redirect(reverse("casework:evidence_request", args=[pk, request_id]))
        forms[action] = failed
    if may_decide and found.status == EvidenceRequestStatus.PENDING:
        forms.setdefault(
            "approve",
            EvidenceApproveForm(
                request=found,
                auto_id="approve_%s",
                initial={
                    "items": [
                        f"{i.kind}:{i.document_id or i.note_id or ''}" for i in found.items.all()
                    ]
                },
            ),
        )
        forms.setdefault("decline", ReasonForm(auto_id="decline_%s"))
    if may_decide and found.status in GRANTING_STATUSES:
        forms.setdefault("revoke", ReasonForm(auto_id="revoke_%s"))
    context = {
        "case": found.case,
        "found": found,
        "items": [(item, item_label(item)) for item in found.items.all()],
        "forms": forms,
        "may_withdraw": found.requested_by_id == request.user.pk
        and found.status == EvidenceRequestStatus.PENDING,
    }
    return render(request, "casework/evidence_request.html", context)
