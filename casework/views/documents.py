"""Documents: uploading one, and downloading it (audited, 404 when hidden)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from agencies.forms import apply_service_errors as _apply_errors

from .. import reads, services
from ..forms import DocumentForm
from ..permissions import ADD_DOCUMENT
from .helpers import _case, _case_and_perms, _child_form, _data, _require, _to_case


@login_required
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _require(perms, ADD_DOCUMENT)
    form = DocumentForm(_data(request), request.FILES if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            document = services.document_upload(
                actor=request.user,
                case=case,
                uploaded_file=data["file"],
                kind=data["kind"],
                purpose=data["purpose"],
                description=data["description"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(
                request, _("%(name)s was uploaded.") % {"name": document.original_name}
            )
            return _to_case(case, "documents")
    return _child_form(
        request,
        case,
        form,
        title=_("Upload a document"),
        submit=_("Upload"),
        multipart=True,
        section="documents",
    )


@login_required
@require_safe
def document_download(request: HttpRequest, pk: int, doc_id: int) -> FileResponse:
    case = _case(request, pk)
    document = reads.document_for_download(request.user, case, doc_id)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
