"""Cases: the list, opening and changing one, its status, and who can see it and why."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from agencies import access
from agencies.auth import SignedInRequest
from audit.models import AuditEvent
from core.forms import form_page, posted_data
from core.pagination import page_size

from .. import reads, services
from ..audit_actions import CaseAction
from ..filters import CaseFilter, case_list_queryset, mark_open_needs
from ..forms import CaseCreateForm, CaseForm, CloseForm
from ..models import Case, CaseStatus
from ..permissions import ADD_CASE, CHANGE_CASE, MANAGE_CASE, VIEW_CASE, VIEW_CASE_ACCESS
from ..services import CASE_FIELDS
from .case_page import _detail_with_errors
from .helpers import _case_and_perms, _case_url, _hidden_unless, _labels, _require, _to_case


def _word_the_filter_form(form: Form) -> None:
    """Say "Any" where the shared filter leaves a field unset (its defaults are dashes)."""
    for name, field in form.fields.items():
        if name == "open_needs":
            field.widget.choices = [("unknown", _("Any")), ("true", _("Yes")), ("false", _("No"))]
        elif hasattr(field, "empty_label"):
            field.empty_label = _("Newest first") if name == "ordering" else _("Any")
            field.widget.choices = field.choices  # the widget still lists the class's field


@login_required
@require_safe
def case_list(request: SignedInRequest) -> HttpResponse:
    """Cases the user may see, filtered in SQL, in a fixed number of queries per page."""
    case_filter = CaseFilter(
        request.GET, queryset=case_list_queryset(request.user).select_related("lead_agency")
    )
    _word_the_filter_form(case_filter.form)
    page = Paginator(case_filter.qs, page_size(request)).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    mark_open_needs(page.object_list)
    for row in page:
        row.exploitation_labels = _labels(row.exploitation_types)
    return render(
        request,
        "casework/case_list.html",
        {
            "filter": case_filter,
            "page": page,
            "can_open": access.user_may(request.user, ADD_CASE),
        },
    )


def _possible_duplicates(request: SignedInRequest, form: CaseCreateForm) -> list[Case]:
    data = form.cleaned_data
    return reads.possible_duplicates(
        request.user,
        given_name=data["given_name"],
        family_name=data["family_name"],
        date_of_birth=data["date_of_birth"],
    )


@login_required
def case_create(request: SignedInRequest) -> HttpResponse:
    if not access.user_may(request.user, ADD_CASE):
        raise PermissionDenied(_("Only caseworkers and case managers open cases."))
    form = CaseCreateForm(posted_data(request))
    confirmed = request.POST.get("confirm_new") == "1"
    duplicates: list[Case] = []
    if request.method == "POST" and not confirmed and form.is_valid():
        duplicates = _possible_duplicates(request, form)

    def case_form_page() -> HttpResponse:
        return render(
            request,
            "casework/case_form.html",
            {"form": form, "duplicates": duplicates, "confirmed": confirmed, "creating": True},
        )

    def case_open() -> Case:
        identity = form.identity_fields()
        has_identity = any(value not in ("", None) for value in identity.values())
        return services.case_create(
            actor=request.user,
            identity=identity if has_identity else None,
            **form.case_fields(),
        )

    if duplicates:  # shown first, for the user to confirm the case is new
        return case_form_page()
    return form_page(
        request,
        form,
        service=case_open,
        success=lambda case: _("Case %(reference)s was opened.") % {"reference": case.reference},
        redirect_to=_case_url,
        page=case_form_page,
    )


def _case_initial(case: Case) -> dict[str, Any]:
    initial = {name: getattr(case, name) for name in CASE_FIELDS}
    initial["nationality"] = case.nationality.code if case.nationality else ""
    return initial


@login_required
def case_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _require(perms, CHANGE_CASE)
    form = CaseForm(
        posted_data(request),
        initial=_case_initial(case),
        child_status_basis=case.child_status_basis,
    )
    return form_page(
        request,
        form,
        service=lambda: services.case_update(actor=request.user, case=case, **form.case_fields()),
        success=_("The case was updated."),
        redirect_to=_case_url(case),
        page=lambda: render(
            request, "casework/case_form.html", {"form": form, "case": case, "creating": False}
        ),
    )


@login_required
@require_POST
def case_status(request: SignedInRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _require(perms, MANAGE_CASE)
    action = request.POST.get("action")
    if action == "close":
        form = CloseForm(request.POST, auto_id="close_%s")
        return form_page(
            request,
            form,
            service=lambda: services.case_close(
                actor=request.user,
                case=case,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            ),
            success=_("The case was closed."),
            redirect_to=_case_url(case),
            illegal_transition_to=_case_url(case, "status"),
            page=lambda: _detail_with_errors(request, case, perms, close_form=form),
        )
    services_by_action = {"activate": services.case_activate, "reopen": services.case_reopen}
    if action not in services_by_action:
        raise BadRequest("Unknown action.")
    try:
        services_by_action[action](actor=request.user, case=case)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The case is now %(status)s.") % {"status": CaseStatus(case.status).label.lower()},
        )
    return _to_case(case, "status")


# Permission names in words, for "who can see this case and why".
PERMISSION_LABELS: dict[str, str] = {
    VIEW_CASE: gettext_lazy("Can view the case summary and safeguarding flags"),
    CHANGE_CASE: gettext_lazy("Can change the case summary"),
    # The rest are worded in Case.Meta.permissions, where their codenames are declared.
    **{f"{Case._meta.app_label}.{codename}": name for codename, name in Case._meta.permissions},
}


def _grant_rows(grants: list[access.GrantInfo]) -> list[dict[str, Any]]:
    """Grants folded into one row per holder, reason and expiry, listing what they allow."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for grant in grants:
        key = (grant.holder_kind, grant.holder_id, grant.reason_type, grant.reason_id)
        key += (grant.expires_at,)
        row = rows.setdefault(
            key,
            {
                "holder_kind": grant.holder_kind,
                "holder_name": grant.holder_name,
                "reason": grant.reason,
                "expires_at": grant.expires_at,
                "permissions": [],
            },
        )
        row["permissions"].append(PERMISSION_LABELS.get(grant.permission, grant.permission))
    for row in rows.values():
        row["permissions"].sort(key=str)
    return list(rows.values())


@login_required
@require_safe
def case_access(request: SignedInRequest, pk: int) -> HttpResponse:
    """Who can see the case and why, and who has viewed the identity and location."""
    case, perms = _case_and_perms(request, pk)
    _hidden_unless(request, case, perms, VIEW_CASE_ACCESS)
    context = {
        "case": case,
        "grants": _grant_rows(access.grants_on(case)),
        "sensitive_views": AuditEvent.objects.filter(
            case_id=case.pk, action__in=[CaseAction.IDENTITY_VIEWED, CaseAction.LOCATION_VIEWED]
        ).select_related("actor", "actor_agency")[:50],
    }
    return render(request, "casework/case_access.html", context)
