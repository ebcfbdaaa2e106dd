"""Referral inbox and outbox, referral pages, the NRM page of a case, and deadlines."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from agencies import access
from agencies.auth import SignedInRequest
from casework.models import Case
from casework.permissions import CHANGE_CASE, RECORD_JUSTICE_OUTCOME, VIEW_CASE
from core.errors import IllegalTransition
from core.forms import apply_service_errors, form_page

from . import jurisdictions, nrm_services, services
from .deadlines import deadlines_for
from .forms import (
    DeclineForm,
    DutyToNotifyForm,
    NRMDecisionForm,
    ReconsiderationForm,
    ReconsiderationOutcomeForm,
    ReferralForm,
    WithdrawForm,
)
from .models import NRMReferral, Referral, ReferralKind, ReferralStatus, Urgency
from .permissions import ADD_REFERRAL, CHANGE_NRM, VIEW_NRM, VIEW_REFERRAL


def _require_role(request: SignedInRequest, perm: str, message: str) -> None:
    """Layer 1, before any id is looked up: a role that never does this is 403."""
    if not access.user_may(request.user, perm):
        raise PermissionDenied(message)


def _referral(request: SignedInRequest, pk: int) -> Referral:
    """A referral to or from the user's agency; otherwise 404 (audited when it exists)."""
    _require_role(request, VIEW_REFERRAL, _("Your role does not work with referrals."))
    return access.get_visible_or_404(
        Referral.objects.select_related("case", "from_agency", "to_agency", "sent_by"),
        request.user,
        VIEW_REFERRAL,
        pk=pk,
    )


URGENCY_ORDER = models.Case(
    models.When(urgency=Urgency.EMERGENCY, then=models.Value(0)),
    models.When(urgency=Urgency.URGENT, then=models.Value(1)),
    default=models.Value(2),
    output_field=models.IntegerField(),
)


@login_required
def inbox(request: SignedInRequest) -> HttpResponse:
    """Incoming referrals waiting for an answer, by urgency and time left; then the rest."""
    membership = access.active_membership(request.user)
    if membership is None or not access.role_may(membership.role, VIEW_REFERRAL):
        raise PermissionDenied(_("Your role does not work with referrals."))
    mine = Referral.objects.visible_to(request.user, VIEW_REFERRAL).select_related(
        "case", "from_agency", "to_agency"
    )
    waiting = (
        mine.filter(to_agency_id=membership.agency_id, status=ReferralStatus.SENT)
        .annotate(urgency_rank=URGENCY_ORDER)
        .order_by("urgency_rank", "respond_by")
    )
    answered = mine.filter(to_agency_id=membership.agency_id).exclude(status=ReferralStatus.SENT)[
        :50
    ]
    outgoing = mine.filter(from_agency_id=membership.agency_id)[:50]
    return render(
        request,
        "referrals/inbox.html",
        {
            "agency": membership.agency,
            "waiting": waiting,
            "answered": answered,
            "outgoing": outgoing,
        },
    )


@login_required
def referral_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    referral = _referral(request, pk)
    membership = access.active_membership(request.user)
    receiving = membership is not None and membership.agency_id == referral.to_agency_id
    return render(
        request,
        "referrals/referral_detail.html",
        {
            "referral": referral,
            "receiving": receiving,
            "decline_form": DeclineForm(),
            "can_open_case": access.can(request.user, VIEW_CASE, referral.case),
        },
    )


@login_required
@require_POST
def referral_answer(request: SignedInRequest, pk: int) -> HttpResponse:
    referral = _referral(request, pk)
    action = request.POST.get("action")
    try:
        if action == "accept":
            services.referral_accept(actor=request.user, referral=referral)
            messages.success(
                request,
                _("Accepted. The case is now open to your agency as far as the referral needs."),
            )
        elif action == "decline":
            form = DeclineForm(request.POST)
            if not form.is_valid():
                return render(
                    request,
                    "referrals/referral_detail.html",
                    {
                        "referral": referral,
                        "receiving": True,
                        "decline_form": form,
                        "can_open_case": False,
                    },
                    status=400,
                )
            services.referral_decline(
                actor=request.user, referral=referral, reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("Declined. The referring agency has been told."))
        elif action == "withdraw":
            services.referral_withdraw(actor=request.user, referral=referral)
            messages.success(request, _("The referral was withdrawn."))
        elif action == "complete":
            referral = services.referral_complete(actor=request.user, referral=referral)
            if services.may_share_case(referral.case, referral.from_agency, referral.to_agency):
                messages.success(
                    request, _("Completed. Your agency keeps sight of the case summary only.")
                )
            else:
                messages.success(
                    request,
                    _(
                        "Completed. No partnership agreement in force covers this referral "
                        "any more, so your agency keeps nothing of the case through it."
                    ),
                )
        else:
            messages.error(request, _("Choose accept, decline, withdraw or complete."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("referrals:referral_detail", pk=referral.pk)


@login_required
def referral_create(request: SignedInRequest, case_pk: int) -> HttpResponse:
    """Refer a case the user's agency leads to another agency in a partnership with it
    (the form offers only those; the service checks again)."""
    if not services.may_ever_refer(request.user):
        raise PermissionDenied(_("Your role does not make referrals."))
    case = access.get_visible_or_404(Case.objects.all(), request.user, VIEW_CASE, pk=case_pk)
    membership = access.active_membership(request.user)
    # A referral acts for the agency: its grants decide, never a personal one such as a
    # break-glass (the service's rule, asked here too so the page is refused alike).
    lead = access.user_may(request.user, ADD_REFERRAL) and access.agency_can(
        request.user, CHANGE_CASE, case
    )
    # An officer or prosecutor sends a file to prosecutors carrying their agency's outcome.
    file_only = (
        not lead
        and membership is not None
        and access.user_may(request.user, RECORD_JUSTICE_OUTCOME)
        and case.justice_outcomes.filter(recorded_by_agency_id=membership.agency_id).exists()
        and access.agency_can(request.user, VIEW_CASE, case)
    )
    if membership is None or not (lead or file_only):
        raise PermissionDenied(_("Only the lead agency's caseworkers refer this case."))
    initial = {}
    if request.GET.get("outcome", "").isdigit():
        initial = {"kind": ReferralKind.PROSECUTION_FILE, "justice_outcome": request.GET["outcome"]}
    form = ReferralForm(
        request.POST or None,
        initial=initial,
        own_agency=membership.agency,
        case=case,
        file_only=file_only,
    )
    return form_page(
        request,
        form,
        service=lambda: services.referral_send(actor=request.user, case=case, **form.cleaned_data),
        success=lambda referral: (
            _("Referred to %(agency)s. They have been told.") % {"agency": referral.to_agency.name}
        ),
        redirect_to=lambda referral: reverse(
            "referrals:referral_detail", kwargs={"pk": referral.pk}
        ),
        page=lambda: render(request, "referrals/referral_form.html", {"case": case, "form": form}),
    )


# The per-record actions of the NRM page: the form each takes and the service it calls.
_RECORD_FORMS: dict[str, type[forms.Form]] = {
    "decision": NRMDecisionForm,
    "reconsideration": ReconsiderationForm,
    "outcome": ReconsiderationOutcomeForm,
    "withdraw": WithdrawForm,
}
_DONE = {
    "decision": gettext_lazy("The NRM record is updated."),
    "reconsideration": gettext_lazy("The reconsideration request is recorded."),
    "outcome": gettext_lazy("The outcome is recorded; the clocks follow it."),
    "withdraw": gettext_lazy("The withdrawal is recorded: the NRM clocks have stopped."),
}


def _record_action(
    request: SignedInRequest, action: str, nrm: NRMReferral, form: forms.Form
) -> bool:
    """Call the action's service with the valid form; False (errors on the form) if the
    service refuses the values."""
    user = request.user
    data = form.cleaned_data
    try:
        if action == "decision":
            assert isinstance(form, NRMDecisionForm)  # _RECORD_FORMS["decision"]
            changed = form.changed_values()
            if not changed:
                messages.info(request, _("Nothing was changed: the NRM record is as it was."))
                return True
            nrm_services.nrm_update(actor=user, nrm=nrm, **changed)
        elif action == "reconsideration":
            nrm_services.nrm_reconsideration_request(actor=user, nrm=nrm, **data)
        elif action == "outcome":
            pending = nrm.reconsideration_pending
            if pending is None:
                raise IllegalTransition(_("No reconsideration is waiting for an outcome."))
            nrm_services.nrm_reconsideration_outcome(actor=user, reconsideration=pending, **data)
        else:
            nrm_services.nrm_withdraw(actor=user, nrm=nrm, reason=data["reason"])
    except ValidationError as error:
        apply_service_errors(form, error)
        return False
    if action != "decision" or form.changed_data:
        messages.success(request, _DONE[action])
    return True


@login_required
def case_nrm(request: SignedInRequest, case_pk: int) -> HttpResponse:
    """The NRM referrals of a case with their clocks; record one, a decision, a
    reconsideration and its outcome, a withdrawal, a declined referral or an MS1.

    The same rules as the API: a record is changed only by the agency that made the NRM
    referral or the case's lead agency (403 for anyone else who sees it). Each record the
    user may change has its own forms; the decision form is filled with the record's
    current values and a save passes on only the fields the user changed, like the API's
    PATCH. An agency in a country without an NRM sees why there is nothing to
    do here (``referrals.jurisdictions``)."""
    _require_role(request, VIEW_NRM, _("Your role does not work with NRM referrals."))
    case = access.get_visible_or_404(
        Case.objects.select_related("lead_agency"), request.user, VIEW_CASE, pk=case_pk
    )
    membership = access.active_membership(request.user)
    rules = jurisdictions.for_agency(membership.agency) if membership else None
    action = request.POST.get("action") if request.method == "POST" else None
    posted: tuple[str, int, forms.Form] | None = None
    ms1_form = DutyToNotifyForm(request.POST if action == "ms1" else None)
    if action in ("refer", "declined"):
        try:
            if action == "refer":
                nrm_services.nrm_refer(actor=request.user, case=case)
            else:
                nrm_services.nrm_declined(actor=request.user, case=case)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("The NRM referral is recorded; the Reasonable Grounds clock is running.")
                if action == "refer"
                else _(
                    "Recorded: the person declined an NRM referral. Where your partnership is "
                    "under the duty to notify, the lead caseworker has a task to file the MS1."
                ),
            )
        return redirect("referrals:case_nrm", case_pk=case.pk)
    if action in _RECORD_FORMS:
        nrm = access.get_visible_or_404(
            NRMReferral.objects.select_related("agency", "case__lead_agency"),
            request.user,
            VIEW_NRM,
            case=case,
            pk=request.POST.get("nrm_id"),
        )
        # Refused before the body is read: a caller who may not change learns nothing.
        nrm_services.require_nrm_changer(request.user, nrm)
        form = _RECORD_FORMS[action](request.POST, nrm=nrm)
        if form.is_valid() and _record_action(request, action, nrm, form):
            return redirect("referrals:case_nrm", case_pk=case.pk)
        posted = (action, nrm.pk, form)
    elif action == "ms1":
        return form_page(
            request,
            ms1_form,
            service=lambda: nrm_services.duty_to_notify_file(
                actor=request.user, case=case, **ms1_form.cleaned_data
            ),
            success=_("The Duty to Notify (MS1) is recorded."),
            redirect_to=reverse("referrals:case_nrm", kwargs={"case_pk": case.pk}),
            page=lambda: _nrm_page(request, case, rules, None, ms1_form),
        )
    elif request.method == "POST":
        messages.error(request, _("Choose what to record: a referral, a decision or an MS1."))
        return redirect("referrals:case_nrm", case_pk=case.pk)
    return _nrm_page(request, case, rules, posted, ms1_form)


def _nrm_page(
    request: SignedInRequest,
    case: Case,
    rules: jurisdictions.Jurisdiction | None,
    posted: tuple[str, int, forms.Form] | None,
    ms1_form: forms.Form,
) -> HttpResponse:
    """The NRM page of a case: each record with the forms the user may fill in (the one
    posted, if any, with its input and errors), the MS1s and the declined referrals."""
    nrm_referrals = (
        NRMReferral.objects.visible_to(request.user, VIEW_NRM)
        .filter(case=case)
        .select_related("agency")
        .prefetch_related("reconsiderations")
    )
    changeable = set(
        NRMReferral.objects.visible_to(request.user, CHANGE_NRM)
        .filter(case=case)
        .values_list("pk", flat=True)
    )
    # Each record with its forms ({} where the user may not change it): the posted form
    # for the record it was sent for, keeping the user's input and errors.
    records: list[tuple[NRMReferral, dict[str, forms.Form]]] = []
    for nrm in nrm_referrals:
        record_forms: dict[str, forms.Form] = {}
        if nrm.pk in changeable and not nrm.is_withdrawn:
            wanted = ["decision", "withdraw"]
            if nrm.reconsideration_stage is not None:
                wanted.append("reconsideration")
            if nrm.reconsideration_pending is not None:
                wanted.append("outcome")
            for name in wanted:
                if posted is not None and posted[:2] == (name, nrm.pk):
                    record_forms[name] = posted[2]
                else:
                    record_forms[name] = _RECORD_FORMS[name](nrm=nrm)
        records.append((nrm, record_forms))
    return render(
        request,
        "referrals/case_nrm.html",
        {
            "case": case,
            "rules": rules,
            "records": records,
            "changeable": changeable,
            "ms1_form": ms1_form,
            "ms1s": case.duty_to_notify.select_related("agency"),
            "declines": case.nrm_declines.select_related("agency"),
            "error_summary_forms": [
                form for form in (posted[2] if posted else None, ms1_form) if form is not None
            ],
        },
    )


@login_required
def deadlines(request: SignedInRequest) -> HttpResponse:
    membership = access.active_membership(request.user)
    return render(
        request,
        "referrals/deadlines.html",
        {
            "deadlines": deadlines_for(request.user),
            "agency": membership.agency if membership else None,
        },
    )
