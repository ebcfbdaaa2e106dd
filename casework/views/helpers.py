"""What every case view shares: fetching the case as the user may see it (a hidden case is
404, audited), the user's permissions on it, and the small form page of one part (its
write is ``core.forms.form_page``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from agencies import access

from .. import reads
from ..models import Case, ExploitationType
from ..permissions import VIEW_CASE

CASE_QUERYSET = Case.objects.select_related("lead_agency", "lead_caseworker")


def _case(request: HttpRequest, pk: int) -> Case:
    """The case, if the user may see it at all; otherwise 404 (and the attempt audited)."""
    return access.get_visible_or_404(CASE_QUERYSET, request.user, VIEW_CASE, pk=pk)


def _case_and_perms(request: HttpRequest, pk: int) -> tuple[Case, frozenset[str]]:
    case = _case(request, pk)
    return case, access.perms_for(request.user, case)


def _require(perms: frozenset[str], perm: str) -> None:
    """The user sees the case but may not do this: 403 (services refuse writes again)."""
    if perm not in perms:
        raise PermissionDenied(_("You may not do this on this case."))


def _hidden_unless(request: HttpRequest, case: Case, perms: frozenset[str], *any_of: str) -> None:
    """A part of the case the user may not see is 404, as if absent, and the refused
    read is audited: the same answer as the API's (``CaseViewSet._hidden_unless``)."""
    if not any(perm in perms for perm in any_of):
        raise reads.hidden(request.user, case, any_of[0])


def _case_url(case: Case, section: str = "") -> str:
    """The case page, at one of its sections if named."""
    url = reverse("casework:case_detail", args=[case.pk])
    return f"{url}#{section}" if section else url


def _to_case(case: Case, section: str = "") -> HttpResponse:
    return redirect(_case_url(case, section))


def _labels(values: list[str]) -> list[str]:
    known = dict(ExploitationType.choices)
    return [str(known.get(value, value)) for value in values]


def _child_form(
    request: HttpRequest,
    case: Case,
    form: Form,
    *,
    title: str,
    submit: str,
    intro: str = "",
    multipart: bool = False,
    section: str = "",
) -> HttpResponse:
    return render(
        request,
        "casework/case_child_form.html",
        {
            "case": case,
            "form": form,
            "title": title,
            "submit": submit,
            "intro": intro,
            "multipart": multipart,
            "section": section,
        },
    )
