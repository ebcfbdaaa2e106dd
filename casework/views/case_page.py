"""The case page: one context builder per section of ``casework/case_detail.html`` (each
section a template of its own under ``casework/case/``), each part only when its
permission is held."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from agencies import access
from agencies.models import Membership
from referrals import jurisdictions

from .. import duplicates, reads
from ..evidence import reads as evidence_reads
from ..forms import CloseForm, NoteForm, TransferForm
from ..models import (
    Case,
    CaseNote,
    CaseTask,
    Document,
    DocumentKind,
    NoteVisibility,
    TransferStatus,
)
from ..permissions import (
    ACCEPT_LEAD_TRANSFER,
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
from .helpers import _case_and_perms, _labels

Context = dict[str, Any]


@login_required
@require_safe
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case, perms = _case_and_perms(request, pk)
    return render(request, "casework/case_detail.html", _detail_context(request, case, perms))


def _detail_with_errors(
    request: HttpRequest, case: Case, perms: frozenset[str], **forms: Form
) -> HttpResponse:
    """The case page again, with the inline form that failed showing its errors."""
    return render(
        request, "casework/case_detail.html", _detail_context(request, case, perms, **forms)
    )


def _detail_context(
    request: HttpRequest, case: Case, perms: frozenset[str], **forms: Form
) -> Context:
    """Everything the case page shows, section by section. The sections are built in the
    order the page was always read in, so that the audited reads (identity, location,
    notes, documents) are written in the same order."""
    user = request.user
    membership = access.active_membership(user)
    return {
        "case": case,
        **_actions_context(perms),
        **_header_context(case, membership),
        **_flags_context(case),
        **_summary_context(case),
        **_tasks_context(user, case),
        **_identity_context(user, case, perms),
        **_location_context(user, case, perms),
        **_needs_context(case, perms),
        **_consents_context(case, perms),
        **_notes_context(user, case, perms, forms.get("note_form")),
        **_documents_context(user, case, perms),
        **_transfer_context(case, perms, membership, forms.get("transfer_form")),
        **_status_context(perms, forms.get("close_form")),
        **_evidence_context(user, case, perms),
        **_break_glass_context(user, case, perms),
        **_justice_context(user, case, membership),
        **_access_context(perms),
    }


def _actions_context(perms: frozenset[str]) -> Context:
    """What the page offers to do, decided here from the permission constants so that
    the template never spells a permission name."""
    return {
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
    }


def _header_context(case: Case, membership: Membership | None) -> Context:
    # No NRM button where no mechanism applies: a case led by an agency outside the UK,
    # seen from an agency outside the UK (the NRM page says why).
    return {
        "nrm_applies": any(
            jurisdictions.for_agency(agency) is not None
            for agency in (case.lead_agency, membership.agency if membership else None)
        ),
    }


def _flags_context(case: Case) -> Context:
    return {"flags": list(case.flags.active().select_related("raised_by"))}


def _summary_context(case: Case) -> Context:
    return {"exploitation_labels": _labels(case.exploitation_types)}


def _tasks_context(user: Any, case: Case) -> Context:
    """The open tasks of the user's agency on this case."""
    return {
        "tasks": list(
            CaseTask.objects.visible_to(user)
            .open()
            .filter(case=case)
            .select_related("assignee")
            .order_by("due_on", "id")
        ),
        "may_work_tasks": access.user_may(user, WORK_CASE_TASK),
    }


def _identity_context(user: Any, case: Case, perms: frozenset[str]) -> Context:
    if VIEW_IDENTITY not in perms:
        return {}
    return {
        "identity": reads.identity(user, case, perms=perms),
        "show_identity": True,
        # Hit or no hit at the other agencies of the partnership: which agency to
        # contact, never their case.
        "possible_duplicates": duplicates.for_case(user, case, perms=perms),
    }


def _location_context(user: Any, case: Case, perms: frozenset[str]) -> Context:
    if VIEW_LOCATION not in perms:
        return {}
    location, history = reads.location(user, case, perms=perms)
    return {"location": location, "location_history": history, "show_location": True}


def _needs_context(case: Case, perms: frozenset[str]) -> Context:
    if VIEW_NEEDS not in perms:
        return {}
    return {"needs": list(case.needs.select_related("owner_agency"))}


def _consents_context(case: Case, perms: frozenset[str]) -> Context:
    if VIEW_CONSENTS not in perms:
        return {}
    consents = list(case.consents.select_related("agency", "recorded_by", "withdrawn_by"))
    return {
        "active_consents": [c for c in consents if c.is_active],
        "withdrawn_consents": [c for c in consents if not c.is_active],
    }


def _notes_context(user: Any, case: Case, perms: frozenset[str], note_form: Form | None) -> Context:
    context: Context = {}
    if perms & {VIEW_NOTES, VIEW_LEAD_NOTES} or _holds_granted_notes(user, case, perms):
        context["notes"] = list(reads.notes(user, case, perms=perms))
    if ADD_NOTE in perms:
        context["note_form"] = note_form or NoteForm(auto_id="note_%s")
    return context


def _documents_context(user: Any, case: Case, perms: frozenset[str]) -> Context:
    if VIEW_DOCUMENTS in perms or _holds_granted_documents(user, case, perms):
        return {"documents": list(reads.documents(user, case, perms=perms))}
    return {}


# Notes and documents granted to an officer one by one (an approved evidence request):
# shown, and their reading audited, only when there are some. Asked only of someone who
# does not see the case's documents as a whole.


def _holds_granted_notes(user: Any, case: Case, perms: frozenset[str]) -> bool:
    return (
        VIEW_DOCUMENTS not in perms
        and access.user_may(user, VIEW_CASENOTE)
        and CaseNote.objects.visible_to(user, VIEW_CASENOTE).filter(case=case).exists()
    )


def _holds_granted_documents(user: Any, case: Case, perms: frozenset[str]) -> bool:
    return (
        VIEW_DOCUMENTS not in perms
        and access.user_may(user, VIEW_DOCUMENT)
        and Document.objects.visible_to(user, VIEW_DOCUMENT).filter(case=case).exists()
    )


def _transfer_context(
    case: Case,
    perms: frozenset[str],
    membership: Membership | None,
    transfer_form: Form | None,
) -> Context:
    transfer = (
        case.transfers.filter(status=TransferStatus.PROPOSED)
        .select_related("to_agency", "from_agency", "proposed_by")
        .first()
    )
    context: Context = {
        "transfer": transfer,
        "may_answer_transfer": (
            transfer is not None
            and membership is not None
            and membership.agency_id == transfer.to_agency_id
            and access.role_may(membership.role, ACCEPT_LEAD_TRANSFER)
        ),
    }
    if MANAGE_CASE in perms and transfer is None:
        context["transfer_form"] = transfer_form or TransferForm(
            lead_agency=case.lead_agency, auto_id="transfer_%s"
        )
    return context


def _status_context(perms: frozenset[str], close_form: Form | None) -> Context:
    if MANAGE_CASE not in perms:
        return {}
    return {"close_form": close_form or CloseForm(auto_id="close_%s")}


def _evidence_context(user: Any, case: Case, perms: frozenset[str]) -> Context:
    """An officer sees what material exists, not its content, and may ask for it; the
    requests on the case are listed to those who see them; the lead agency sees what
    officers read of what it granted."""
    context: Context = {}
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
        evidence_reads.visible_requests(user).filter(case=case).order_by("-requested_at")[:20]
    )
    if DECIDE_EVIDENCE in perms:
        context["granted_reads"] = evidence_reads.describe_reads(
            case, evidence_reads.granted_reads(case).select_related("actor", "actor_agency")[:20]
        )
    return context


def _break_glass_context(user: Any, case: Case, perms: frozenset[str]) -> Context:
    """The lead's case managers see every opening (flagged until reviewed); the person who
    opened one sees their own. "Review it" only on those whose review is this user's
    duty now (one query for the page): not the breaker, not a case manager whose duty
    moved to the admins; the others say who reviews."""
    if REVIEW_BREAK_GLASS in perms:
        events = list(case.break_glass_events.select_related("opened_by", "agency")[:20])
        mine = set(
            case.break_glass_events.to_review_by(user).unreviewed().values_list("pk", flat=True)
        )
        for event in events:
            event.review_is_mine = event.pk in mine
    else:
        events = list(
            case.break_glass_events.filter(opened_by=user).select_related("opened_by", "agency")[:5]
        )
    return {
        "break_glass_events": events,
        "may_break_glass": (
            access.user_may(user, BREAK_GLASS) and not {VIEW_IDENTITY, VIEW_LOCATION} <= perms
        ),
    }


def _justice_context(user: Any, case: Case, membership: Membership | None) -> Context:
    """What the police and prosecutors recorded, and files to prosecutors. Outcomes are
    recorded for the agency: not on the strength of a grant to the user alone, such as a
    break-glass (``justice_outcome_require_agency_sight`` in casework.evidence.services)."""
    return {
        "justice_outcomes": list(case.justice_outcomes.select_related("recorded_by_agency")),
        "may_record_outcome": (
            access.user_may(user, RECORD_JUSTICE_OUTCOME)
            and access.agency_can(user, VIEW_CASE, case)
        ),
        "my_agency_id": membership.agency_id if membership else None,
    }


def _access_context(perms: frozenset[str]) -> Context:
    # Who can see the case is a page of its own (case_access): the grants with their
    # reasons and the audit of sensitive views are rarely needed on a visit, and were
    # half the time of the case page.
    return {"may_view_access": VIEW_CASE_ACCESS in perms}
