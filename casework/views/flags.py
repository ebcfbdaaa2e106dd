"""Safeguarding flags: raising and clearing them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agencies.auth import SignedInRequest
from core.forms import form_page, posted_data

from .. import reads, services
from ..forms import FlagForm
from ..models import SafeguardingFlag
from ..permissions import CHANGE_FLAGS, VIEW_CASE
from .helpers import _case_and_perms, _case_url, _child_form, _require, _to_case


@login_required
def flag_add(request: SignedInRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _require(perms, CHANGE_FLAGS)
    form = FlagForm(posted_data(request))
    return form_page(
        request,
        form,
        service=lambda: services.flag_raise(actor=request.user, case=case, **form.cleaned_data),
        success=_("The safeguarding flag was raised."),
        redirect_to=_case_url(case),
        page=lambda: _child_form(
            request,
            case,
            form,
            title=_("Raise a safeguarding flag"),
            submit=_("Raise the flag"),
            intro=_("Everyone who can see this case sees its active flags."),
        ),
    )


@login_required
@require_POST
def flag_clear(request: SignedInRequest, pk: int, flag_id: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _require(perms, CHANGE_FLAGS)
    flag = reads.child_or_404(
        request.user, SafeguardingFlag.objects.select_related("case"), case, VIEW_CASE, flag_id
    )
    try:
        services.flag_clear(actor=request.user, flag=flag)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("The flag “%(kind)s” was cleared.") % {"kind": flag.get_kind_display()}
        )
    return _to_case(case)
