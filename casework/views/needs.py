"""Needs: the agency's open needs across its cases, and recording and changing one."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from agencies import access
from agencies.auth import SignedInRequest
from core.forms import form_page, posted_data

from .. import reads, services
from ..forms import NeedAddForm, NeedEditForm
from ..models import Case, Need
from ..permissions import CHANGE_NEEDS, VIEW_NEEDS
from .helpers import _case_and_perms, _case_url, _child_form, _hidden_unless, _require


@login_required
@require_safe
def my_needs(request: SignedInRequest) -> HttpResponse:
    """Open needs owned by the user's agency, on cases whose needs the user may see."""
    membership = access.active_membership(request.user)
    if membership is None or not access.user_may(request.user, VIEW_NEEDS):
        raise PermissionDenied(_("Only caseworkers and case managers work on needs."))
    needs = (
        Need.objects.open()
        .filter(
            owner_agency=membership.agency,
            case__in=Case.objects.visible_to(request.user, VIEW_NEEDS),
        )
        .select_related("case", "owner_agency")
        .overdue_first()
    )
    page = Paginator(needs, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "casework/my_needs.html", {"page": page, "agency": membership.agency})


@login_required
def need_add(request: SignedInRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _require(perms, CHANGE_NEEDS)
    form = NeedAddForm(posted_data(request))
    return form_page(
        request,
        form,
        service=lambda: services.need_add(actor=request.user, case=case, **form.cleaned_data),
        success=_("The need was recorded."),
        redirect_to=_case_url(case, "needs"),
        page=lambda: _child_form(
            request, case, form, title=_("Record a need"), submit=_("Record"), section="needs"
        ),
    )


@login_required
def need_edit(request: SignedInRequest, pk: int, need_id: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _hidden_unless(request, case, perms, VIEW_NEEDS)
    _require(perms, CHANGE_NEEDS)  # before the id is looked up, as the API does
    need = reads.child_or_404(
        request.user, Need.objects.select_related("case"), case, VIEW_NEEDS, need_id
    )
    form = NeedEditForm(
        posted_data(request),
        initial={
            "status": need.status,
            "owner_agency": need.owner_agency_id,
            "target_date": need.target_date,
            "note": need.note,
        },
    )
    return form_page(
        request,
        form,
        service=lambda: services.need_update(actor=request.user, need=need, **form.cleaned_data),
        success=_("The need was updated."),
        redirect_to=_case_url(case, "needs"),
        page=lambda: _child_form(
            request,
            case,
            form,
            title=_("Need: %(need)s") % {"need": need.get_category_display()},
            submit=_("Save"),
            section="needs",
        ),
    )
