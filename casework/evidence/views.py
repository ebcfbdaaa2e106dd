"""Pages of evidence requests: an officer asks, the lead agency decides, the officer sees
what they hold; break-glass and its review; justice outcomes. The same services and
scoping as the API (``api``)."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from agencies import access
from agencies.auth import SignedInRequest
from core.errors import IllegalTransition
from core.forms import apply_service_errors, form_page, posted_data

from ..models import (
    GRANTING_STATUSES,
    BreakGlassEvent,
    Case,
    EvidenceAccessRequest,
    EvidenceRequestStatus,
)
from ..permissions import (
    BREAK_GLASS,
    DECIDE_EVIDENCE,
    RECORD_JUSTICE_OUTCOME,
    REQUEST_EVIDENCE,
    REVIEW_BREAK_GLASS,
    VIEW_CASE,
)
from ..views.helpers import _case, _case_url, _child_form
from . import break_glass, reads, services
from .forms import (
    BreakGlassForm,
    BreakGlassReviewForm,
    EvidenceApproveForm,
    EvidenceRequestForm,
    JusticeOutcomeForm,
    ReasonForm,
    as_items,
    item_label,
)


@login_required
@require_safe
def evidence_list(request: SignedInRequest) -> HttpResponse:
    """An officer's requests and what they hold now; the lead agency's requests to decide."""
    requests = list(reads.visible_requests(request.user).order_by("-requested_at", "-id")[:100])
    now = timezone.now()
    for found in requests:
        found.holding = found.status in GRANTING_STATUSES and found.expires_at > now
        found.item_rows = [(item, item_label(item)) for item in found.items.all()]
    context = {
        "requests": requests,
        "may_break_glass": access.user_may(request.user, BREAK_GLASS),
    }
    return render(request, "casework/evidence/list.html", context)


@login_required
def evidence_request_new(request: SignedInRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    if not access.user_may(request.user, REQUEST_EVIDENCE):
        raise PermissionDenied(_("Only police officers ask for evidence."))
    form = EvidenceRequestForm(posted_data(request), case=case)

    def request_create() -> EvidenceAccessRequest:
        data = form.cleaned_data
        return services.evidence_request_create(
            actor=request.user,
            case=case,
            purpose=data["purpose"],
            crime_reference=data["crime_reference"],
            legal_basis=data["legal_basis"],
            items=as_items(data["items"]),
        )

    return form_page(
        request,
        form,
        service=request_create,
        success=_("Your request was sent to the lead agency."),
        redirect_to=lambda made: reverse("casework:evidence_request", args=[case.pk, made.pk]),
        page=lambda: _child_form(
            request,
            case,
            form,
            title=_("Ask for evidence"),
            submit=_("Send the request"),
            intro=_(
                "The lead agency decides with the person. You see what exists, not its "
                "content, until an item is approved for you."
            ),
        ),
    )


def _decide(request: SignedInRequest, found: Any, action: str) -> Any:
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
            services.evidence_request_approve(
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
            services.evidence_request_decline
            if action == "decline"
            else services.evidence_request_revoke
        )
        service(actor=user, request=found, reason=form.cleaned_data["reason"])
        return None
    if action == "withdraw":
        services.evidence_request_withdraw(actor=user, request=found)
        return None
    raise Http404


@login_required
def evidence_request_detail(request: SignedInRequest, pk: int, request_id: int) -> HttpResponse:
    found = reads.evidence_request_get(request.user, request_id, case_id=pk)
    may_decide = access.can(request.user, DECIDE_EVIDENCE, found.case)
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
        # The lead agency sees every read of what it granted.
        "reads": reads.describe_reads(
            found.case,
            reads.granted_reads(found.case, found).select_related("actor", "actor_agency")[:100],
        )
        if may_decide
        else None,
    }
    return render(request, "casework/evidence/request.html", context)


# --- Break-glass ------------------------------------------------------------------------


@login_required
def break_glass_open(request: SignedInRequest) -> HttpResponse:
    """Open a case's identity and location for an hour, life being at risk. The case is
    named by its reference: an officer of the partnership may not see the case yet. As
    the API: who may at all (403) and what the form says (grounds, reason) before the
    case is looked up; a case outside the partnership is "no such case", as a missing one."""
    break_glass.break_glass_require_power(request.user)
    initial = {"reference": request.GET.get("case", "")[:32]}
    form = BreakGlassForm(posted_data(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        reference = form.cleaned_data["reference"].strip()
        case = (
            Case.objects.select_related("lead_agency").filter(reference__iexact=reference).first()
        )
        try:
            if case is None:
                raise Http404
            event = break_glass.break_glass_open(
                actor=request.user,
                case=case,
                grounds=form.cleaned_data["grounds"],
                reason=form.cleaned_data["reason"],
            )
        except Http404:
            form.add_error(
                "reference", _("There is no case with this reference in your partnership.")
            )
        except IllegalTransition as error:
            # Already open to them: said on the form, with when it ends (the API's 409).
            form.add_error(None, error.messages)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.warning(
                request,
                _(
                    "The glass is broken: you see this person's identity and location until "
                    "%(time)s. Its reviewers have been told."
                )
                % {"time": timezone.localtime(event.expires_at).strftime("%H:%M")},
            )
            return redirect("casework:case_detail", pk=case.pk)
    return render(request, "casework/evidence/break_glass_open.html", {"form": form})


@login_required
def break_glass_detail(request: SignedInRequest, bg_id: int) -> HttpResponse:
    """One break-glass: who opened the case, of which agency, when, why, until when and
    what they read; its reviewers record the review here. Never the case's identity,
    location or notes: a partnership manager reviews without sight of the person.

    Seen by the person who broke the glass, its reviewers and the lead agency's case
    managers; 404 to everyone else. A review by a role that never reviews is 403 before
    the event is looked up; by someone who sees the event but is not its reviewer, 403.
    """
    if request.method == "POST" and not access.user_may(request.user, REVIEW_BREAK_GLASS):
        raise PermissionDenied(_("Your role does not review break-glass openings."))
    event = reads.break_glass_event(request.user, bg_id)
    may_review = reads.break_glass_may_review(request.user, event)
    form = (
        BreakGlassReviewForm(posted_data(request))
        if may_review and event.reviewed_at is None
        else None
    )
    if request.method == "POST":
        if not may_review:
            raise PermissionDenied(_("Only the reviewers of this break-glass review it."))
        if form is None:
            messages.error(request, _("This break-glass was already reviewed."))
            return redirect("casework:break_glass", bg_id=event.pk)
        if form.is_valid():
            try:
                break_glass.break_glass_review(
                    actor=request.user, event=event, note=form.cleaned_data["note"]
                )
            except IllegalTransition as error:
                messages.error(request, " ".join(error.messages))
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("The review is recorded."))
                return redirect("casework:break_glass", bg_id=event.pk)
    context = {
        "event": event,
        "case": event.case,
        # The case's page only for those who see the case; its reference for everyone.
        "sees_case": access.can(request.user, VIEW_CASE, event.case),
        "overdue": event.is_overdue(),
        "form": form,
        "may_review_any": access.user_may(request.user, REVIEW_BREAK_GLASS),
        "reads": reads.describe_reads(
            event.case,
            reads.break_glass_reads(event).select_related("actor", "actor_agency"),
        ),
    }
    return render(request, "casework/evidence/break_glass.html", context)


@login_required
@require_safe
def break_glass_reviews(request: SignedInRequest) -> HttpResponse:
    """The reviewer's task list: the break-glass openings whose review is theirs, oldest
    first, those unreviewed after BREAK_GLASS_REVIEW_OVERDUE_HOURS marked overdue. A role
    that never reviews: 403."""
    if not access.user_may(request.user, REVIEW_BREAK_GLASS):
        raise PermissionDenied(_("Your role does not review break-glass openings."))
    events = list(
        BreakGlassEvent.objects.to_review_by(request.user)
        .unreviewed()
        .select_related("case", "agency")
        .order_by("opened_at", "pk")[:200]
    )
    now = timezone.now()
    for event in events:
        event.overdue = event.is_overdue(now)
    context = {"events": events, "overdue_hours": settings.BREAK_GLASS_REVIEW_OVERDUE_HOURS}
    return render(request, "casework/evidence/break_glass_reviews.html", context)


# --- Criminal-justice outcomes -----------------------------------------------------------


@login_required
def outcome_add(request: SignedInRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    if not access.user_may(request.user, RECORD_JUSTICE_OUTCOME):
        raise PermissionDenied(_("Only officers and prosecutors record justice outcomes."))
    # Seen through a grant to the officer alone (a break-glass): no form to fill in (403).
    services.justice_outcome_require_agency_sight(request.user, case)
    form = JusticeOutcomeForm(posted_data(request))
    return form_page(
        request,
        form,
        service=lambda: services.justice_outcome_record(
            actor=request.user, case=case, **form.cleaned_data
        ),
        success=_("The outcome is recorded."),
        redirect_to=_case_url(case, "justice"),
        page=lambda: _child_form(
            request,
            case,
            form,
            title=_("Record a criminal-justice outcome"),
            submit=_("Record the outcome"),
            intro=_("Record what the criminal-justice system did. Write no names."),
            section="justice",
        ),
    )
