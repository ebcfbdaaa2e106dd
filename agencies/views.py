"""Agency admins manage their own agency's users in the browser (the API's twin)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.forms import form_page

from . import access, second_factor, services
from .forms import MemberCreateForm, MemberRoleForm
from .models import Agency, Membership
from .permissions import MANAGE_AGENCY_USERS


def _admin_agency(request: HttpRequest) -> Agency:
    if not access.user_may(request.user, MANAGE_AGENCY_USERS):
        raise PermissionDenied(_("Only an agency administrator may manage users."))
    membership = access.active_membership(request.user)
    assert membership is not None
    return membership.agency


def _member(request: HttpRequest, pk: int) -> Membership:
    """A member of the admin's own agency: 403 for a role that never manages users (before
    any lookup), 404 (audited) for another agency's member, as in the API."""
    _admin_agency(request)
    return access.get_visible_or_404(
        Membership.objects.select_related("user", "agency"),
        request.user,
        MANAGE_AGENCY_USERS,
        pk=pk,
    )


@login_required
def member_list(request: HttpRequest) -> HttpResponse:
    agency = _admin_agency(request)
    members = Membership.objects.manageable_by(request.user).select_related("user")
    return render(request, "agencies/member_list.html", {"agency": agency, "members": members})


@login_required
def member_create(request: HttpRequest) -> HttpResponse:
    agency = _admin_agency(request)
    form = MemberCreateForm(request.POST or None, agency=agency)
    return form_page(
        request,
        form,
        service=lambda: services.membership_create(
            actor=request.user, agency=agency, **form.cleaned_data
        ),
        success=lambda membership: (
            _("%(user)s was added and emailed an invitation.") % {"user": membership.user.username}
        ),
        redirect_to=reverse("agencies:member_list"),
        page=lambda: render(request, "agencies/member_form.html", {"agency": agency, "form": form}),
    )


@login_required
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agency = _admin_agency(request)
    membership = _member(request, pk)
    form = MemberRoleForm(request.POST or None, agency=agency, initial={"role": membership.role})
    return form_page(
        request,
        form,
        service=lambda: services.membership_change_role(
            actor=request.user, membership=membership, role=form.cleaned_data["role"]
        ),
        success=_("The role was changed. It applies from their next page."),
        redirect_to=reverse("agencies:member_list"),
        page=lambda: render(
            request,
            "agencies/member_detail.html",
            {
                "agency": agency,
                "member": membership,
                "form": form,
                "second_factors": second_factor.device_labels(membership.user),
            },
        ),
    )


@login_required
@require_POST
def member_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_agency(request)
    membership = _member(request, pk)
    try:
        services.membership_deactivate(actor=request.user, membership=membership)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("%(user)s can no longer sign in.") % {"user": membership.user.username}
        )
    return redirect("agencies:member_list")


@login_required
@require_POST
def member_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_agency(request)
    membership = _member(request, pk)
    services.membership_reactivate(actor=request.user, membership=membership)
    messages.success(request, _("%(user)s can sign in again.") % {"user": membership.user.username})
    return redirect("agencies:member_list")


@login_required
def member_second_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """Reset a member's second factors (lost phone or key): a confirmation page, then the
    reset on POST. The member sets up a new one at their next sign-in."""
    agency = _admin_agency(request)
    membership = _member(request, pk)
    if request.method == "POST":
        try:
            services.member_second_factors_reset(actor=request.user, membership=membership)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("agencies:member_detail", pk=membership.pk)
        messages.success(
            request,
            _(
                "%(user)s's second factors were reset and they were signed out. They set up "
                "a new one at their next sign-in."
            )
            % {"user": membership.user.username},
        )
        return redirect("agencies:member_detail", pk=membership.pk)
    return render(
        request,
        "agencies/member_second_factor_reset.html",
        {"agency": agency, "member": membership},
    )
