"""Documents: uploading one, and downloading it (audited, 404 when hidden)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from agencies.auth import SignedInRequest
from core.forms import form_page, posted_data

from .. import reads, services
from ..forms import DocumentForm
from ..models import Document
from ..permissions import ADD_DOCUMENT
from .helpers import _case, _case_and_perms, _case_url, _child_form, _require


@login_required
def document_upload(request: SignedInRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _require(perms, ADD_DOCUMENT)
    form = DocumentForm(posted_data(request), request.FILES if request.method == "POST" else None)

    def upload() -> Document:
        data = form.cleaned_data
        return services.document_upload(
            actor=request.user,
            case=case,
            uploaded_file=data["file"],
            kind=data["kind"],
            purpose=data["purpose"],
            description=data["description"],
        )

    return form_page(
        request,
        form,
        service=upload,
        success=lambda document: _("%(name)s was uploaded.") % {"name": document.original_name},
        redirect_to=_case_url(case, "documents"),
        page=lambda: _child_form(
            request,
            case,
            form,
            title=_("Upload a document"),
            submit=_("Upload"),
            multipart=True,
            section="documents",
        ),
    )


@login_required
@require_safe
def document_download(request: SignedInRequest, pk: int, doc_id: int) -> FileResponse:
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
