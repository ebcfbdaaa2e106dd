"""The person on a case: their identity, possible matches at other agencies, and where
they stay. Reading either is audited (``reads``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.utils.translation import gettext as _

from agencies.auth import SignedInRequest
from core.forms import form_page, posted_data

from .. import duplicates, reads, services
from ..forms import DismissDuplicateForm, IdentityForm, LocationForm
from ..permissions import CHANGE_IDENTITY, CHANGE_LOCATION, VIEW_IDENTITY, VIEW_LOCATION
from .helpers import _case_and_perms, _case_url, _child_form, _hidden_unless, _require


@login_required
def identity_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    # Changing an identity one may not even read is 404, as reading it is.
    _hidden_unless(request, case, perms, VIEW_IDENTITY)
    _require(perms, CHANGE_IDENTITY)
    initial: dict[str, Any] = {}
    if request.method != "POST":
        identity = reads.identity(request.user, case, perms=perms, why="editing the identity")
        if identity is not None:
            initial = {
                "given_name": identity.given_name,
                "family_name": identity.family_name,
                "aliases": ", ".join(identity.aliases),
                "date_of_birth": identity.date_of_birth,
                "estimated_age": identity.estimated_age,
                "phone": identity.phone,
                "email": identity.email,
                "documents_held_by_other": identity.documents_held_by_other,
            }
    form = IdentityForm(posted_data(request), initial=initial)
    return form_page(
        request,
        form,
        service=lambda: services.identity_save(actor=request.user, case=case, **form.cleaned_data),
        success=_("The identity was saved."),
        redirect_to=_case_url(case, "identity"),
        page=lambda: _child_form(
            request,
            case,
            form,
            title=_("Identity"),
            submit=_("Save the identity"),
            section="identity",
        ),
    )


@login_required
def possible_duplicate_dismiss(request: SignedInRequest, pk: int, hit_id: int) -> HttpResponse:
    """Answer a possible match at another agency: "not the same person", with a reason
    (the API's POST /cases/<id>/possible-duplicates/<hit>/dismiss/)."""
    case, perms = _case_and_perms(request, pk)
    # A match is part of the identity: 404 to those who may not read it, as the identity.
    _hidden_unless(request, case, perms, VIEW_IDENTITY)
    _require(perms, CHANGE_IDENTITY)  # before the id is looked up, as the API does
    hit = duplicates.hit_or_404(request.user, case, hit_id)
    form = DismissDuplicateForm(posted_data(request))
    return form_page(
        request,
        form,
        service=lambda: duplicates.dismiss(
            actor=request.user, hit=hit, reason=form.cleaned_data["reason"]
        ),
        success=_("The possible match at %(agency)s was marked as not the same person.")
        % {"agency": hit.other_agency_name},
        redirect_to=_case_url(case, "possible-duplicates"),
        illegal_transition_to=_case_url(case, "possible-duplicates"),
        page=lambda: _child_form(
            request,
            case,
            form,
            title=_("Not the same person"),
            submit=_("Mark as not the same person"),
            intro=_(
                "%(agency)s may know the person on this case (%(strength)s). If you have "
                "checked with them and it is not the same person, say why. Neither agency is "
                "told of this match again unless a name or the date of birth changes on "
                "either case."
            )
            % {"agency": hit.other_agency_name, "strength": hit.get_strength_display().lower()},
            section="possible-duplicates",
        ),
    )


@login_required
def location_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _hidden_unless(request, case, perms, VIEW_LOCATION)
    _require(perms, CHANGE_LOCATION)
    form = LocationForm(posted_data(request))
    return form_page(
        request,
        form,
        service=lambda: services.location_set(actor=request.user, case=case, **form.cleaned_data),
        success=_("The new location was recorded."),
        redirect_to=_case_url(case, "location"),
        page=lambda: _child_form(
            request,
            case,
            form,
            title=_("Record where the person is staying"),
            submit=_("Record the location"),
            intro=_("The current location ends today and is kept in the history."),
            section="location",
        ),
    )
