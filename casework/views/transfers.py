"""Lead transfer: proposing another agency as lead, and its answer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agencies.auth import SignedInRequest
from core.forms import form_page

from .. import reads, transfers
from ..forms import TransferForm
from ..models import LeadTransfer
from ..permissions import MANAGE_CASE, VIEW_CASE
from .case_page import _detail_with_errors
from .helpers import _case, _case_and_perms, _case_url, _require, _to_case


@login_required
@require_POST
def transfer_propose(request: SignedInRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _require(perms, MANAGE_CASE)
    form = TransferForm(request.POST, lead_agency=case.lead_agency, auto_id="transfer_%s")
    return form_page(
        request,
        form,
        service=lambda: transfers.transfer_propose(
            actor=request.user, case=case, **form.cleaned_data
        ),
        success=lambda transfer: (
            _("%(agency)s was asked to lead the case.") % {"agency": transfer.to_agency}
        ),
        redirect_to=_case_url(case, "transfer"),
        illegal_transition_to=_case_url(case, "transfer"),
        page=lambda: _detail_with_errors(request, case, perms, transfer_form=form),
    )


@login_required
@require_POST
def transfer_answer(request: SignedInRequest, pk: int, transfer_id: int) -> HttpResponse:
    case = _case(request, pk)
    transfer = reads.child_or_404(
        request.user,
        LeadTransfer.objects.select_related("case", "to_agency"),
        case,
        VIEW_CASE,
        transfer_id,
    )
    action = request.POST.get("action")
    note = request.POST.get("note", "").strip()
    try:
        if action == "accept":
            transfers.transfer_accept(actor=request.user, transfer=transfer)
            messages.success(request, _("Your agency now leads this case."))
        elif action == "decline":
            transfers.transfer_decline(actor=request.user, transfer=transfer, note=note)
            messages.success(request, _("You declined to lead the case."))
            # The case was shown to the agency only so it could decide: it is gone now.
            return redirect("casework:case_list")
        elif action == "withdraw":
            transfers.transfer_withdraw(actor=request.user, transfer=transfer)
            messages.success(request, _("The transfer was withdrawn."))
        else:
            raise BadRequest("Unknown action.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return _to_case(case, "transfer")
