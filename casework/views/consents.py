"""Consent: recording what the person agreed to, and withdrawing it (with every access
it allowed)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agencies.auth import SignedInRequest
from core.forms import form_page, posted_data

from .. import consents, reads
from ..forms import ConsentForm
from ..models import Consent
from ..permissions import CHANGE_CONSENTS, VIEW_CONSENTS
from .helpers import _case_and_perms, _case_url, _child_form, _hidden_unless, _require, _to_case


@login_required
def consent_add(request: SignedInRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _require(perms, CHANGE_CONSENTS)
    form = ConsentForm(posted_data(request))
    return form_page(
        request,
        form,
        service=lambda: consents.consent_record(actor=request.user, case=case, **form.cleaned_data),
        success=_("The consent was recorded."),
        redirect_to=_case_url(case, "consents"),
        page=lambda: _child_form(
            request,
            case,
            form,
            title=_("Record consent"),
            submit=_("Record"),
            intro=_(
                "Record what the person agreed to, how, and when. For a child, record the "
                "safeguarding basis and its reason instead."
            ),
            section="consents",
        ),
    )


@login_required
@require_POST
def consent_withdraw(request: SignedInRequest, pk: int, consent_id: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _hidden_unless(request, case, perms, VIEW_CONSENTS)
    _require(perms, CHANGE_CONSENTS)
    consent = reads.child_or_404(
        request.user, Consent.objects.select_related("case"), case, VIEW_CONSENTS, consent_id
    )
    try:
        consents.consent_withdraw(
            actor=request.user, consent=consent, reason=request.POST.get("reason", "").strip()
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The consent was withdrawn, with every access it allowed."),
        )
    return _to_case(case, "consents")
