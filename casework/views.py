"""Case work in the browser (the API's twin): thin views over services and reads.

Every case is fetched with ``access.get_visible_or_404`` (a hidden case is 404, nested
pages and downloads included); the user's permissions on it are loaded once per page;
every write is a service call and every read of identity, location, notes and documents
goes through ``reads`` so that it is audited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from agencies import access
from agencies.forms import apply_service_errors as _apply_errors
from audit.models import AuditEvent
from config.pagination import page_size
from referrals import jurisdictions

from . import duplicates, evidence, reads, services
from .filters import CaseFilter, case_list_queryset, mark_open_needs
from .forms import (
    CaseCreateForm,
    CaseForm,
    CloseForm,
    ConsentForm,
    DismissDuplicateForm,
    DocumentForm,
    FlagForm,
    IdentityForm,
    LocationForm,
    NeedAddForm,
    NeedEditForm,
    NoteEditForm,
    NoteForm,
    TransferForm,
)
from .models import (
    Case,
    CaseNote,
    CaseStatus,
    CaseTask,
    Consent,
    Document,
    DocumentKind,
    ExploitationType,
    LeadTransfer,
    Need,
    NoteVisibility,
    SafeguardingFlag,
    TransferStatus,
)
from .permissions import (
    ACCEPT_LEAD_TRANSFER,
    ADD_CASE,
    ADD_DOCUMENT,
    ADD_NOTE,
    BREAK_GLASS,
    CHANGE_CASE,
    CHANGE_CONSENTS,
    CHANGE_FLAGS,
    CHANGE_IDENTITY,
    CHANGE_LOCATION,
    CHANGE_NEEDS,
    DECIDE_EVIDENCE,
    MANAGE_CASE,
    RECORD_JUSTICE_OUTCOME,
    REQUEST_EVIDENCE,
    REVIEW_BREAK_GLASS,
    VIEW_CASE,
    VIEW_CASE_ACCESS,
    VIEW_CASENOTE,
    VIEW_CONSENTS,
    VIEW_DOCUMENT,
    VIEW_DOCUMENTS,
    VIEW_IDENTITY,
    VIEW_LEAD_NOTES,
    VIEW_LOCATION,
    VIEW_NEEDS,
    VIEW_NOTES,
    WORK_CASE_TASK,
)
from .services import CASE_FIELDS

PAGE_SIZE = 25

CASE_QUERYSET = Case.objects.select_related("lead_agency", "lead_caseworker")


# --- Helpers ----------------------------------------------------------------------------


def _data(request: HttpRequest) -> Any:
    """Bind forms on POST only (an empty POST is still a submission, with its errors)."""
    return request.POST if request.method == "POST" else None


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


def _to_case(case: Case, section: str = "") -> HttpResponse:
    url = reverse("casework:case_detail", args=[case.pk])
    return redirect(f"{url}#{section}" if section else url)


def _labels(values: list[str]) -> list[str]:
    known = dict(ExploitationType.choices)
    return [str(known.get(value, value)) for value in values]


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


def _case_initial(case: Case) -> dict[str, Any]:
    initial = {name: getattr(case, name) for name in CASE_FIELDS}
    initial["nationality"] = case.nationality.code if case.nationality else ""
    return initial


# --- Lists ------------------------------------------------------------------------------


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
def case_list(request: HttpRequest) -> HttpResponse:
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


@login_required
@require_safe
def my_needs(request: HttpRequest) -> HttpResponse:
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
    page = Paginator(needs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "casework/my_needs.html", {"page": page, "agency": membership.agency})


# --- Opening and changing a case -------------------------------------------------------


def _possible_duplicates(request: HttpRequest, form: CaseCreateForm) -> list[Case]:
    data = form.cleaned_data
    return reads.possible_duplicates(
        request.user,
        given_name=data["given_name"],
        family_name=data["family_name"],
        date_of_birth=data["date_of_birth"],
    )


@login_required
def case_create(request: HttpRequest) -> HttpResponse:
    if not access.user_may(request.user, ADD_CASE):
        raise PermissionDenied(_("Only caseworkers and case managers open cases."))
    form = CaseCreateForm(_data(request))
    duplicates: list[Case] = []
    confirmed = request.POST.get("confirm_new") == "1"
    if request.method == "POST" and form.is_valid():
        if not confirmed:
            duplicates = _possible_duplicates(request, form)
        if not duplicates:
            identity = form.identity_fields()
            has_identity = any(value not in ("", None) for value in identity.values())
            try:
                case = services.case_create(
                    actor=request.user,
                    identity=identity if has_identity else None,
                    **form.case_fields(),
                )
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(
                    request, _("Case %(reference)s was opened.") % {"reference": case.reference}
                )
                return _to_case(case)
    return render(
        request,
        "casework/case_form.html",
        {"form": form, "duplicates": duplicates, "confirmed": confirmed, "creating": True},
    )


@login_required
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _require(perms, CHANGE_CASE)
    form = CaseForm(
        _data(request), initial=_case_initial(case), child_status_basis=case.child_status_basis
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.case_update(actor=request.user, case=case, **form.case_fields())
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The case was updated."))
            return _to_case(case)
    return render(
        request, "casework/case_form.html", {"form": form, "case": case, "creating": False}
    )


# --- The case page ---------------------------------------------------------------------


def _detail_context(
    request: HttpRequest, case: Case, perms: frozenset[str], **forms: Form
) -> dict[str, Any]:
    """Everything the case page shows, each part only when its permission is held."""
    user = request.user
    membership = access.active_membership(user)
    context: dict[str, Any] = {
        "case": case,
        "exploitation_labels": _labels(case.exploitation_types),
        "flags": list(case.flags.active().select_related("raised_by")),
        # What the page offers to do, decided here from the permission constants so that
        # the template never spells a permission name (issue 14).
        "may_change_case": CHANGE_CASE in perms,
        "may_change_flags": CHANGE_FLAGS in perms,
        "may_change_identity": CHANGE_IDENTITY in perms,
        "may_change_location": CHANGE_LOCATION in perms,
        "may_change_needs": CHANGE_NEEDS in perms,
        "may_change_consents": CHANGE_CONSENTS in perms,
        "may_add_note": ADD_NOTE in perms,
        "may_add_document": ADD_DOCUMENT in perms,
        "may_manage_case": MANAGE_CASE in perms,
        "may_review_break_glass": REVIEW_BREAK_GLASS in perms,
        # The open tasks of the user's agency on this case (issue 17).
        "tasks": list(
            CaseTask.objects.visible_to(user)
            .open()
            .filter(case=case)
            .select_related("assignee")
            .order_by("due_on", "id")
        ),
        "may_work_tasks": access.user_may(user, WORK_CASE_TASK),
        # No NRM button where no mechanism applies: a case led by an agency outside the
        # UK, seen from an agency outside the UK (issue 17; the NRM page says why).
        "nrm_applies": any(
            jurisdictions.for_agency(agency) is not None
            for agency in (case.lead_agency, membership.agency if membership else None)
        ),
    }
    if VIEW_IDENTITY in perms:
        context["identity"] = reads.identity(user, case, perms=perms)
        context["show_identity"] = True
        # Hit or no hit at the other agencies of the partnership (issue 16): which agency
        # to contact, never their case.
        context["possible_duplicates"] = duplicates.for_case(user, case, perms=perms)
    if VIEW_LOCATION in perms:
        context["location"], context["location_history"] = reads.location(user, case, perms=perms)
        context["show_location"] = True
    if VIEW_NEEDS in perms:
        context["needs"] = list(case.needs.select_related("owner_agency"))
    if VIEW_CONSENTS in perms:
        consents = list(case.consents.select_related("agency", "recorded_by", "withdrawn_by"))
        context["active_consents"] = [c for c in consents if c.is_active]
        context["withdrawn_consents"] = [c for c in consents if not c.is_active]
    if perms & {VIEW_NOTES, VIEW_LEAD_NOTES}:
        context["notes"] = list(reads.notes(user, case, perms=perms))
    if ADD_NOTE in perms:
        context["note_form"] = forms.get("note_form") or NoteForm(auto_id="note_%s")
    if VIEW_DOCUMENTS in perms:
        context["documents"] = list(reads.documents(user, case, perms=perms))
    else:
        _granted_material(user, case, perms, context)

    transfer = (
        case.transfers.filter(status=TransferStatus.PROPOSED)
        .select_related("to_agency", "from_agency", "proposed_by")
        .first()
    )
    context["transfer"] = transfer
    context["may_answer_transfer"] = (
        transfer is not None
        and membership is not None
        and membership.agency_id == transfer.to_agency_id
        and access.role_may(membership.role, ACCEPT_LEAD_TRANSFER)
    )
    if MANAGE_CASE in perms:
        context["close_form"] = forms.get("close_form") or CloseForm(auto_id="close_%s")
        if transfer is None:
            context["transfer_form"] = forms.get("transfer_form") or TransferForm(
                lead_agency=case.lead_agency, auto_id="transfer_%s"
            )

    # Evidence (issue 6): an officer sees what material exists, not its content, and may
    # ask for it; the requests on the case are listed to those who see them.
    if access.user_may(user, REQUEST_EVIDENCE):
        context["may_request_evidence"] = True
        context["material"] = {
            "documents": [
                {"kind": DocumentKind(row["kind"]).label, "n": row["n"]}
                for row in case.documents.order_by()
                .values("kind")
                .annotate(n=Count("id"))
                .order_by("kind")
            ],
            "notes": case.notes.filter(visibility=NoteVisibility.CASE_TEAM).count(),
        }
    context["evidence_requests"] = list(
        evidence.visible_requests(user).filter(case=case).order_by("-requested_at")[:20]
    )
    # Break-glass: the lead's case managers see every opening (flagged until reviewed);
    # the person who opened one sees their own. "Review it" only on those whose review
    # is this user's duty now (one query for the page): not the breaker, not a case
    # manager whose duty moved to the admins; the others say who reviews.
    if REVIEW_BREAK_GLASS in perms:
        events = list(case.break_glass_events.select_related("opened_by", "agency")[:20])
        mine = set(
            case.break_glass_events.to_review_by(user).unreviewed().values_list("pk", flat=True)
        )
        for event in events:
            event.review_is_mine = event.pk in mine
        context["break_glass_events"] = events
    else:
        context["break_glass_events"] = list(
            case.break_glass_events.filter(opened_by=user).select_related("opened_by", "agency")[:5]
        )
    context["may_break_glass"] = (
        access.user_may(user, BREAK_GLASS) and not {VIEW_IDENTITY, VIEW_LOCATION} <= perms
    )
    if DECIDE_EVIDENCE in perms:
        context["granted_reads"] = evidence.describe_reads(
            case, evidence.granted_reads(case).select_related("actor", "actor_agency")[:20]
        )
    # Criminal justice: what the police and prosecutors recorded, and files to prosecutors.
    context["justice_outcomes"] = list(case.justice_outcomes.select_related("recorded_by_agency"))
    # Outcomes are recorded for the agency: not on the strength of a grant to the user
    # alone, such as a break-glass (evidence.justice_outcome_require_agency_sight).
    context["may_record_outcome"] = access.user_may(
        user, RECORD_JUSTICE_OUTCOME
    ) and access.agency_can(user, VIEW_CASE, case)
    context["my_agency_id"] = membership.agency_id if membership else None
    # Who can see the case is a page of its own (case_access): the grants with their
    # reasons and the audit of sensitive views are rarely needed on a visit, and were
    # half the time of the case page (issue 5, P7).
    context["may_view_access"] = VIEW_CASE_ACCESS in perms
    return context


def _granted_material(
    user: Any, case: Case, perms: frozenset[str], context: dict[str, Any]
) -> None:
    """Notes and documents granted to an officer one by one (an approved evidence
    request): shown, and their reading audited, only when there are some."""
    if access.user_may(user, VIEW_CASENOTE) and "notes" not in context:
        granted = CaseNote.objects.visible_to(user, VIEW_CASENOTE).filter(case=case)
        if granted.exists():
            context["notes"] = list(reads.notes(user, case, perms=perms))
    if access.user_may(user, VIEW_DOCUMENT):
        granted_docs = Document.objects.visible_to(user, VIEW_DOCUMENT).filter(case=case)
        if granted_docs.exists():
            context["documents"] = list(reads.documents(user, case, perms=perms))


@login_required
@require_safe
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    return render(request, "casework/case_detail.html", _detail_context(request, case, perms))


@login_required
@require_safe
def case_access(request: HttpRequest, pk: int) -> HttpResponse:
    """Who can see the case and why, and who has viewed the identity and location."""
    case, perms = _case_and_perms(request, pk)
    _hidden_unless(request, case, perms, VIEW_CASE_ACCESS)
    context = {
        "case": case,
        "grants": _grant_rows(access.grants_on(case)),
        "sensitive_views": AuditEvent.objects.filter(
            case_id=case.pk, action__in=["identity.viewed", "location.viewed"]
        ).select_related("actor", "actor_agency")[:50],
    }
    return render(request, "casework/case_access.html", context)


def _detail_with_errors(
    request: HttpRequest, case: Case, perms: frozenset[str], **forms: Form
) -> HttpResponse:
    """The case page again, with the inline form that failed showing its errors."""
    return render(
        request, "casework/case_detail.html", _detail_context(request, case, perms, **forms)
    )


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


@login_required
@require_POST
def case_status(request: HttpRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _require(perms, MANAGE_CASE)
    action = request.POST.get("action")
    if action == "close":
        form = CloseForm(request.POST, auto_id="close_%s")
        if form.is_valid():
            try:
                services.case_close(
                    actor=request.user,
                    case=case,
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                )
            except services.IllegalTransition as error:
                messages.error(request, " ".join(error.messages))
                return _to_case(case, "status")
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("The case was closed."))
                return _to_case(case)
        return _detail_with_errors(request, case, perms, close_form=form)
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


# --- Identity and location -------------------------------------------------------------


@login_required
def identity_edit(request: HttpRequest, pk: int) -> HttpResponse:
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
    form = IdentityForm(_data(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.identity_save(actor=request.user, case=case, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The identity was saved."))
            return _to_case(case, "identity")
    return _child_form(
        request,
        case,
        form,
        title=_("Identity"),
        submit=_("Save the identity"),
        section="identity",
    )


@login_required
def possible_duplicate_dismiss(request: HttpRequest, pk: int, hit_id: int) -> HttpResponse:
    """Answer a possible match at another agency: "not the same person", with a reason
    (the API's POST /cases/<id>/possible-duplicates/<hit>/dismiss/)."""
    case, perms = _case_and_perms(request, pk)
    # A match is part of the identity: 404 to those who may not read it, as the identity.
    _hidden_unless(request, case, perms, VIEW_IDENTITY)
    _require(perms, CHANGE_IDENTITY)  # before the id is looked up, as the API does
    hit = duplicates.hit_or_404(request.user, case, hit_id)
    form = DismissDuplicateForm(_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            duplicates.dismiss(actor=request.user, hit=hit, reason=form.cleaned_data["reason"])
        except services.IllegalTransition as error:
            messages.error(request, " ".join(error.messages))
            return _to_case(case, "possible-duplicates")
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(
                request,
                _("The possible match at %(agency)s was marked as not the same person.")
                % {"agency": hit.other_agency_name},
            )
            return _to_case(case, "possible-duplicates")
    return _child_form(
        request,
        case,
        form,
        title=_("Not the same person"),
        submit=_("Mark as not the same person"),
        intro=_(
            "%(agency)s may know the person on this case (%(strength)s). If you have checked "
            "with them and it is not the same person, say why. Neither agency is told of "
            "this match again unless a name or the date of birth changes on either case."
        )
        % {"agency": hit.other_agency_name, "strength": hit.get_strength_display().lower()},
        section="possible-duplicates",
    )


@login_required
def location_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _hidden_unless(request, case, perms, VIEW_LOCATION)
    _require(perms, CHANGE_LOCATION)
    form = LocationForm(_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.location_set(actor=request.user, case=case, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The new location was recorded."))
            return _to_case(case, "location")
    return _child_form(
        request,
        case,
        form,
        title=_("Record where the person is staying"),
        submit=_("Record the location"),
        intro=_("The current location ends today and is kept in the history."),
        section="location",
    )


# --- Needs -----------------------------------------------------------------------------


@login_required
def need_add(request: HttpRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _require(perms, CHANGE_NEEDS)
    form = NeedAddForm(_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.need_add(actor=request.user, case=case, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The need was recorded."))
            return _to_case(case, "needs")
    return _child_form(
        request, case, form, title=_("Record a need"), submit=_("Record"), section="needs"
    )


@login_required
def need_edit(request: HttpRequest, pk: int, need_id: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _hidden_unless(request, case, perms, VIEW_NEEDS)
    _require(perms, CHANGE_NEEDS)  # before the id is looked up, as the API does
    need = reads.child_or_404(
        request.user, Need.objects.select_related("case"), case, VIEW_NEEDS, need_id
    )
    form = NeedEditForm(
        _data(request),
        initial={
            "status": need.status,
            "owner_agency": need.owner_agency_id,
            "target_date": need.target_date,
            "note": need.note,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.need_update(actor=request.user, need=need, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The need was updated."))
            return _to_case(case, "needs")
    return _child_form(
        request,
        case,
        form,
        title=_("Need: %(need)s") % {"need": need.get_category_display()},
        submit=_("Save"),
        section="needs",
    )


# --- Consent ---------------------------------------------------------------------------


@login_required
def consent_add(request: HttpRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _require(perms, CHANGE_CONSENTS)
    form = ConsentForm(_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_record(actor=request.user, case=case, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The consent was recorded."))
            return _to_case(case, "consents")
    return _child_form(
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
    )


@login_required
@require_POST
def consent_withdraw(request: HttpRequest, pk: int, consent_id: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _hidden_unless(request, case, perms, VIEW_CONSENTS)
    _require(perms, CHANGE_CONSENTS)
    consent = reads.child_or_404(
        request.user, Consent.objects.select_related("case"), case, VIEW_CONSENTS, consent_id
    )
    try:
        services.consent_withdraw(
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


# --- Notes -----------------------------------------------------------------------------


@login_required
@require_POST
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _require(perms, ADD_NOTE)
    form = NoteForm(request.POST, auto_id="note_%s")
    if form.is_valid():
        try:
            services.note_add(actor=request.user, case=case, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The note was added."))
            return _to_case(case, "notes")
    return _detail_with_errors(request, case, perms, note_form=form)


@login_required
def note_edit(request: HttpRequest, pk: int, note_id: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _hidden_unless(request, case, perms, VIEW_NOTES, VIEW_LEAD_NOTES)
    note = reads.notes(request.user, case, perms=perms).filter(pk=note_id).first()
    if note is None:
        raise Http404
    if note.author_id != request.user.pk:
        raise PermissionDenied(_("Only the author may edit a note."))
    form = NoteEditForm(_data(request), initial={"body": note.body})
    if request.method == "POST" and form.is_valid():
        try:
            services.note_edit(actor=request.user, note=note, body=form.cleaned_data["body"])
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The note was changed. Its earlier text is kept."))
            return _to_case(case, "notes")
    return _child_form(
        request, case, form, title=_("Edit your note"), submit=_("Save"), section="notes"
    )


# --- Safeguarding flags ----------------------------------------------------------------


@login_required
def flag_add(request: HttpRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _require(perms, CHANGE_FLAGS)
    form = FlagForm(_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.flag_raise(actor=request.user, case=case, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("The safeguarding flag was raised."))
            return _to_case(case)
    return _child_form(
        request,
        case,
        form,
        title=_("Raise a safeguarding flag"),
        submit=_("Raise the flag"),
        intro=_("Everyone who can see this case sees its active flags."),
    )


@login_required
@require_POST
def flag_clear(request: HttpRequest, pk: int, flag_id: int) -> HttpResponse:
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


# --- Documents -------------------------------------------------------------------------


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


# --- Lead transfer ---------------------------------------------------------------------


@login_required
@require_POST
def transfer_propose(request: HttpRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    _require(perms, MANAGE_CASE)
    form = TransferForm(request.POST, lead_agency=case.lead_agency, auto_id="transfer_%s")
    if form.is_valid():
        try:
            transfer = services.transfer_propose(actor=request.user, case=case, **form.cleaned_data)
        except services.IllegalTransition as error:
            messages.error(request, " ".join(error.messages))
            return _to_case(case, "transfer")
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(
                request,
                _("%(agency)s was asked to lead the case.") % {"agency": transfer.to_agency},
            )
            return _to_case(case, "transfer")
    return _detail_with_errors(request, case, perms, transfer_form=form)


@login_required
@require_POST
def transfer_answer(request: HttpRequest, pk: int, transfer_id: int) -> HttpResponse:
    case = _case(request, pk)
    transfer = reads.child_or_404(
        request.user,
        LeadTransfer.objects.select_related("case", "to_agency"),
        case,
        VIEW_CASE,
        transfer_id,
    )
    action = request.POST.get("action")
    note = request.POST.get("note", "").strip()
    try:
        if action == "accept":
            services.transfer_accept(actor=request.user, transfer=transfer)
            messages.success(request, _("Your agency now leads this case."))
        elif action == "decline":
            services.transfer_decline(actor=request.user, transfer=transfer, note=note)
            messages.success(request, _("You declined to lead the case."))
            # The case was shown to the agency only so it could decide: it is gone now.
            return redirect("casework:case_list")
        elif action == "withdraw":
            services.transfer_withdraw(actor=request.user, transfer=transfer)
            messages.success(request, _("The transfer was withdrawn."))
        else:
            raise BadRequest("Unknown action.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return _to_case(case, "transfer")


# --- Case tasks (issue 17) ------------------------------------------------------------


@login_required
@require_POST
def task_done(request: HttpRequest, pk: int, task_id: int) -> HttpResponse:
    """Mark a task of the user's agency as done (the API's POST .../tasks/<id>/done/)."""
    case = _case(request, pk)
    # The role first, before the id is looked up, as the API does.
    if not access.user_may(request.user, WORK_CASE_TASK):
        raise PermissionDenied(_("You may not do this on this case."))
    task = reads.child_or_404(
        request.user,
        CaseTask.objects.visible_to(request.user).select_related("case"),
        case,
        VIEW_CASE,
        task_id,
    )
    try:
        services.task_complete(actor=request.user, task=task)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The task “%(task)s” was marked as done.") % {"task": task.get_kind_display()},
        )
    return _to_case(case, "tasks")
