"""Case notes: adding one from the case page, and its author editing it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agencies.auth import SignedInRequest
from core.forms import form_page, posted_data

from .. import reads, services
from ..forms import NoteEditForm, NoteForm
from ..permissions import ADD_NOTE, VIEW_LEAD_NOTES, VIEW_NOTES
from .case_page import _detail_with_errors
from .helpers import _case_and_perms, _case_url, _child_form, _hidden_unless, _require


@login_required
@require_POST
def note_add(request: SignedInRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _require(perms, ADD_NOTE)
    form = NoteForm(request.POST, auto_id="note_%s")
    return form_page(
        request,
        form,
        service=lambda: services.note_add(actor=request.user, case=case, **form.cleaned_data),
        success=_("The note was added."),
        redirect_to=_case_url(case, "notes"),
        page=lambda: _detail_with_errors(request, case, perms, note_form=form),
    )


@login_required
def note_edit(request: SignedInRequest, pk: int, note_id: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _hidden_unless(request, case, perms, VIEW_NOTES, VIEW_LEAD_NOTES)
    note = reads.notes(request.user, case, perms=perms).filter(pk=note_id).first()
    if note is None:
        raise Http404
    if note.author_id != request.user.pk:
        raise PermissionDenied(_("Only the author may edit a note."))
    form = NoteEditForm(posted_data(request), initial={"body": note.body})
    return form_page(
        request,
        form,
        service=lambda: services.note_edit(
            actor=request.user, note=note, body=form.cleaned_data["body"]
        ),
        success=_("The note was changed. Its earlier text is kept."),
        redirect_to=_case_url(case, "notes"),
        page=lambda: _child_form(
            request, case, form, title=_("Edit your note"), submit=_("Save"), section="notes"
        ),
    )
