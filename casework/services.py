"""Every write to a case: each checks its rule, changes state, audits, and moves grants.

Callers (views, API, tasks, seeding) have already fetched the case with
``Case.objects.visible_to(user, VIEW_CASE)``; a service refuses what the
user may see but not do with ``PermissionDenied`` (403) and bad input with
``ValidationError`` (field errors).

Consent (``casework.consents``), lead transfers (``casework.transfers``) and case tasks
(``casework.case_tasks``) have modules of their own, built on the helpers here.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from typing import Any

import filetype
import phonenumbers
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from agencies import access
from agencies.models import Agency, User
from audit.record import record
from core.errors import IllegalTransition

from . import duplicates
from .ages import ChildStatus, child_status
from .audit_actions import CaseAction
from .models import (
    DEFAULT_URGENCY,
    Case,
    CaseLocation,
    CaseNote,
    CaseNoteRevision,
    CaseReferenceCounter,
    CaseStatus,
    ClosureReason,
    Document,
    ExploitationType,
    LeadAssignment,
    Need,
    NeedStatus,
    NeedStatusChange,
    SafeguardingFlag,
    VictimIdentity,
)
from .permissions import (
    ADD_CASE,
    ADD_DOCUMENT,
    ADD_NOTE,
    CHANGE_CASE,
    CHANGE_FLAGS,
    CHANGE_IDENTITY,
    CHANGE_LOCATION,
    CHANGE_NEEDS,
    LEAD_PERMISSIONS,
    MANAGE_CASE,
)

# --- Helpers ----------------------------------------------------------------------------


def _require(actor: Any, perm: str, case: Case, message: str) -> None:
    if not access.can(actor, perm, case):
        raise PermissionDenied(message)


def _agency_of(actor: Any) -> Agency:
    membership = access.active_membership(actor)
    if membership is None:
        raise PermissionDenied(_("Only members of an active agency may do this."))
    return membership.agency


def _next_reference(now: datetime.datetime) -> str:
    """NMS-2026-00042: a per-year sequence; the row lock serialises concurrent openings."""
    year = timezone.localtime(now).year
    CaseReferenceCounter.objects.bulk_create(
        [CaseReferenceCounter(year=year)], ignore_conflicts=True
    )
    counter = CaseReferenceCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{settings.CASE_REFERENCE_PREFIX}-{year}-{counter.last:05d}"


CASE_FIELDS = (
    "exploitation_types",
    "county_lines",
    "exploited_as_child",
    "is_child",
    "age_disputed",
    "risk_level",
    "gender",
    "nationality",
    "first_language",
    "interpreter_needed",
    "region",
    "how_identified",
)


def _clean_case_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The summary fields a caller may set, checked; anything else is a field error.

    A caller's input is never a 500: the status moves only through the transitions
    below and the reference, lead agency and dates are the service's, so naming them
    (or a field a case does not have) is a 400 on that field, at both doors.
    """
    unknown = sorted(set(fields) - set(CASE_FIELDS))
    if unknown:
        raise ValidationError(
            {name: _("This is not a field of a case you may set.") for name in unknown}
        )
    types = fields.get("exploitation_types")
    if types is not None:
        bad = [t for t in types if t not in ExploitationType.values]
        if bad:
            raise ValidationError(
                {"exploitation_types": _("Unknown exploitation type: %s") % ", ".join(bad)}
            )
        fields["exploitation_types"] = sorted(set(types))
    return fields


# --- Child status ------------------------------------------------------------


def _date_of_birth(case: Case) -> datetime.date | None:
    """The person's date of birth, decrypted for the child-status rule alone: never shown,
    logged or audited from here (the identity's reads go through ``reads.identity``)."""
    return VictimIdentity.objects.filter(case=case).values_list("date_of_birth", flat=True).first()


def _child_status_of(case: Case, date_of_birth: datetime.date | None) -> ChildStatus:
    """``child_status`` of ``case`` as it stands in memory, on today's date."""
    return child_status(
        age_disputed=case.age_disputed,
        date_of_birth=date_of_birth,
        recorded=case.is_child,
        today=timezone.localdate(),
    )


def _record_child_status(actor: Any, case: Case, was_child: bool, old_basis: str) -> None:
    """Audit a change of "under 18 now" or of its basis: the values and the basis, never
    the date of birth."""
    if (was_child, old_basis) == (case.is_child, case.child_status_basis):
        return
    record(
        CaseAction.CHILD_STATUS_CHANGED,
        actor=actor,
        target=case,
        detail={"from": was_child, "to": case.is_child, "basis": case.child_status_basis},
    )


def _child_status_apply(*, actor: Any, case: Case, date_of_birth: datetime.date | None) -> None:
    """Bring ``case.is_child`` into step with ``child_status`` after the identity changed."""
    was_child, old_basis = case.is_child, case.child_status_basis
    case.is_child, case.child_status_basis = _child_status_of(case, date_of_birth)
    if (was_child, old_basis) != (case.is_child, case.child_status_basis):
        case.save(update_fields=["is_child", "child_status_basis", "updated_at"])
        _record_child_status(actor, case, was_child, old_basis)


# --- Case -------------------------------------------------------------------------------


def case_create(
    *,
    actor: User,
    lead_caseworker: User | None = None,
    identity: dict[str, Any] | None = None,
    **fields: Any,
) -> Case:
    """Open a case led by the actor's agency, which receives the full set of grants.

    Only caseworkers and case managers open cases. The lead caseworker, if given, must
    belong to the lead agency.
    """
    if not access.user_may(actor, ADD_CASE):
        raise PermissionDenied(_("Only caseworkers and case managers open cases."))
    agency = _agency_of(actor)
    lead_membership = access.active_membership(lead_caseworker) if lead_caseworker else None
    if lead_caseworker is not None and (
        lead_membership is None or lead_membership.agency_id != agency.pk
    ):
        raise ValidationError(
            {"lead_caseworker": _("The lead caseworker must work for your agency.")}
        )
    fields = _clean_case_fields(fields)
    with transaction.atomic():
        now = timezone.now()
        case = Case(
            reference=_next_reference(now),
            lead_agency=agency,
            lead_caseworker=lead_caseworker or actor,
            opened_at=now,
            **fields,
        )
        status = _child_status_of(case, (identity or {}).get("date_of_birth"))
        case.is_child, case.child_status_basis = status
        case.full_clean(exclude=["reference"])
        case.save()
        assignment = LeadAssignment.objects.create(case=case, agency=agency, started_at=now)
        access.grant(
            actor=actor, obj=case, perms=LEAD_PERMISSIONS, reason=assignment, agency=agency
        )
        record(CaseAction.CREATED, actor=actor, target=case, detail={"reference": case.reference})
        if identity:
            identity_save(actor=actor, case=case, **identity)
    return case


def case_update(*, actor: User, case: Case, **fields: Any) -> Case:
    """Change the summary of a case (not its status: see the transitions below).

    "Under 18 now" follows ``child_status``: a tick that contradicts a known date of
    birth, or a disputed age, is ignored."""
    _require(actor, CHANGE_CASE, case, _("Only the lead agency may change this case."))
    fields = _clean_case_fields(fields)
    if "is_child" in fields or "age_disputed" in fields:
        fields["is_child"], fields["child_status_basis"] = child_status(
            age_disputed=fields.get("age_disputed", case.age_disputed),
            date_of_birth=_date_of_birth(case),
            recorded=fields.get("is_child", case.is_child),
            today=timezone.localdate(),
        )
    changed = sorted(name for name, value in fields.items() if getattr(case, name) != value)
    if not changed:
        return case
    with transaction.atomic():
        was_child, old_basis = case.is_child, case.child_status_basis
        for name in changed:
            setattr(case, name, fields[name])
        case.full_clean()
        case.save(update_fields=[*changed, "updated_at"])
        record(CaseAction.UPDATED, actor=actor, target=case, detail={"fields": changed})
        _record_child_status(actor, case, was_child, old_basis)
    return case


# Legal moves of the status machine: from -> allowed targets.
TRANSITIONS: dict[str, frozenset[str]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.ACTIVE, CaseStatus.CLOSED}),
    CaseStatus.ACTIVE: frozenset({CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset({CaseStatus.ACTIVE}),
}


def _transition(case: Case, target: str) -> None:
    if target not in TRANSITIONS[case.status]:
        raise IllegalTransition(
            _("A case that is %(now)s cannot become %(target)s.")
            % {"now": case.get_status_display().lower(), "target": CaseStatus(target).label.lower()}
        )


def case_activate(*, actor: User, case: Case) -> Case:
    """Open → active: support has started."""
    _require(actor, MANAGE_CASE, case, _("Only the lead agency may change the case status."))
    _transition(case, CaseStatus.ACTIVE)
    with transaction.atomic():
        previous = case.status
        case.status = CaseStatus.ACTIVE
        case.save(update_fields=["status", "updated_at"])
        record(
            CaseAction.STATUS_CHANGED,
            actor=actor,
            target=case,
            detail={"from": previous, "to": case.status},
        )
    return case


def case_close(*, actor: User, case: Case, reason: str, note: str = "") -> Case:
    """Close a case; a closure reason is required ("other" needs a note)."""
    _require(actor, MANAGE_CASE, case, _("Only the lead agency may close this case."))
    _transition(case, CaseStatus.CLOSED)
    if reason not in ClosureReason.values:
        raise ValidationError({"reason": _("Choose why the case is being closed.")})
    if reason == ClosureReason.OTHER and not note.strip():
        raise ValidationError({"note": _("Say why the case is being closed.")})
    with transaction.atomic():
        previous = case.status
        case.status = CaseStatus.CLOSED
        case.closed_at = timezone.now()
        case.closure_reason = reason
        case.closure_note = note
        case.save(
            update_fields=["status", "closed_at", "closure_reason", "closure_note", "updated_at"]
        )
        record(
            CaseAction.CLOSED, actor=actor, target=case, detail={"from": previous, "reason": reason}
        )
    return case


def case_reopen(*, actor: User, case: Case) -> Case:
    """Closed → active, when the person comes back for support."""
    _require(actor, MANAGE_CASE, case, _("Only the lead agency may reopen this case."))
    _transition(case, CaseStatus.ACTIVE)
    with transaction.atomic():
        case.status = CaseStatus.ACTIVE
        case.closed_at = None
        case.closure_reason = ""
        case.closure_note = ""
        case.save(
            update_fields=["status", "closed_at", "closure_reason", "closure_note", "updated_at"]
        )
        record(CaseAction.REOPENED, actor=actor, target=case)
    return case


# --- Identity and location --------------------------------------------------------------

IDENTITY_FIELDS = (
    "given_name",
    "family_name",
    "aliases",
    "date_of_birth",
    "estimated_age",
    "phone",
    "email",
    "documents_held_by_other",
)


def normalise_phone(raw: str, country: str) -> str:
    """E.164, reading national numbers in the agency's country (phonenumbers)."""
    if not raw.strip():
        return ""
    try:
        number = phonenumbers.parse(raw, country or None)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            {"phone": _("Enter a phone number, e.g. 07700 900123 or +44 7700 900123.")}
        ) from None
    if not phonenumbers.is_possible_number(number):
        raise ValidationError({"phone": _("That is not a possible phone number.")})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def identity_save(*, actor: User, case: Case, **fields: Any) -> VictimIdentity:
    """Record or correct who the person is. Audited by field name, never by value.

    When it is first recorded, or a name or the date of birth changes, the other agencies
    in a partnership with the lead agency are asked whether they know the person
    (``duplicates.find_for``), in the same transaction."""
    _require(
        actor,
        CHANGE_IDENTITY,
        case,
        _("You may not record this person's identity."),
    )
    unknown = set(fields) - set(IDENTITY_FIELDS)
    if unknown:
        raise ValueError(f"not identity fields: {sorted(unknown)}")
    if "phone" in fields:
        fields["phone"] = normalise_phone(fields["phone"] or "", case.lead_agency.country)
    dob = fields.get("date_of_birth")
    if dob is not None and dob > timezone.localdate():
        raise ValidationError({"date_of_birth": _("The date of birth cannot be in the future.")})
    with transaction.atomic():
        identity, created = VictimIdentity.objects.get_or_create(case=case)
        identity.case = case  # the caller's, with its lead agency loaded
        changed = sorted(name for name, value in fields.items() if getattr(identity, name) != value)
        for name in changed:
            setattr(identity, name, fields[name])
        identity.full_clean()
        identity.save()
        record(
            CaseAction.IDENTITY_RECORDED if created else CaseAction.IDENTITY_CHANGED,
            actor=actor,
            target=case,
            detail={"fields": changed},
        )
        if created or duplicates.MATCHED_FIELDS.intersection(changed):
            duplicates.find_for(actor=actor, identity=identity)
        if created or "date_of_birth" in changed:
            _child_status_apply(actor=actor, case=case, date_of_birth=identity.date_of_birth)
    return identity


def location_set(
    *,
    actor: User,
    case: Case,
    accommodation_type: str,
    address: str,
    since: datetime.date | None = None,
) -> CaseLocation:
    """Move the person: the current location ends, a new one starts; history is kept."""
    _require(
        actor,
        CHANGE_LOCATION,
        case,
        _("You may not record where this person stays."),
    )
    if not address.strip():
        raise ValidationError({"address": _("Enter the address.")})
    with transaction.atomic():
        now = timezone.now()
        CaseLocation.objects.filter(case=case, ended_at__isnull=True).update(ended_at=now)
        location = CaseLocation(
            case=case,
            accommodation_type=accommodation_type,
            address=address.strip(),
            since=since or timezone.localdate(),
            recorded_by=actor,
            recorded_at=now,
        )
        location.full_clean()
        location.save()
        record(
            CaseAction.LOCATION_RECORDED,
            actor=actor,
            target=case,
            detail={"location_id": location.pk},
        )
    return location


# --- Needs ------------------------------------------------------------------------------


def need_add(
    *,
    actor: User,
    case: Case,
    category: str,
    owner_agency: Agency | None = None,
    target_date: datetime.date | None = None,
    note: str = "",
    urgency: int | None = None,
    status: str = NeedStatus.IDENTIFIED,
) -> Need:
    """Record a need; its urgency tier follows the category unless the caseworker says."""
    _require(actor, CHANGE_NEEDS, case, _("You may not record needs on this case."))
    with transaction.atomic():
        need = Need(
            case=case,
            category=category,
            urgency=urgency or DEFAULT_URGENCY.get(category, 4),
            status=status,
            owner_agency=owner_agency or case.lead_agency,
            target_date=target_date,
            note=note,
            created_by=actor,
        )
        need.full_clean()
        need.save()
        NeedStatusChange.objects.create(
            need=need, from_status="", to_status=status, changed_by=actor
        )
        record(
            CaseAction.NEED_ADDED,
            actor=actor,
            target=case,
            detail={"need_id": need.pk, "category": category},
        )
    return need


NEED_FIELDS = ("status", "owner_agency", "target_date", "note", "urgency", "category")


def need_update(*, actor: User, need: Need, **fields: Any) -> Need:
    """Change a need; every status change is kept with who and when."""
    _require(actor, CHANGE_NEEDS, need.case, _("You may not change needs on this case."))
    unknown = set(fields) - set(NEED_FIELDS)
    if unknown:
        raise ValueError(f"not need fields: {sorted(unknown)}")
    changed = sorted(name for name, value in fields.items() if getattr(need, name) != value)
    if not changed:
        return need
    with transaction.atomic():
        previous_status = need.status
        for name in changed:
            setattr(need, name, fields[name])
        need.full_clean()
        need.save()
        if "status" in changed:
            NeedStatusChange.objects.create(
                need=need, from_status=previous_status, to_status=need.status, changed_by=actor
            )
        record(
            CaseAction.NEED_CHANGED,
            actor=actor,
            target=need.case,
            detail={"need_id": need.pk, "fields": changed},
        )
    return need


# --- Notes and flags --------------------------------------------------------------------


def note_add(*, actor: User, case: Case, body: str, visibility: str) -> CaseNote:
    """Add a note to a case the actor's agency works on; the writer says who may read it
    (``visibility`` has no default: both doors require it)."""
    _require(actor, ADD_NOTE, case, _("You may not write notes on this case."))
    if not body.strip():
        raise ValidationError({"body": _("Write the note.")})
    with transaction.atomic():
        note = CaseNote(
            case=case, author=actor, agency=_agency_of(actor), body=body, visibility=visibility
        )
        note.full_clean()
        note.save()
        record(
            CaseAction.NOTE_ADDED,
            actor=actor,
            target=case,
            detail={"note_id": note.pk, "visibility": visibility},
        )
    return note


def note_edit(*, actor: User, note: CaseNote, body: str) -> CaseNote:
    """Only the author edits a note; the earlier text is kept as a revision."""
    if note.author_id != actor.pk:
        raise PermissionDenied(_("Only the author may edit a note."))
    _require(actor, ADD_NOTE, note.case, _("You may not write notes on this case."))
    if not body.strip():
        raise ValidationError({"body": _("Write the note.")})
    if body == note.body:
        return note
    with transaction.atomic():
        CaseNoteRevision.objects.create(note=note, body=note.body, edited_by=actor)
        note.body = body
        note.save(update_fields=["body", "updated_at"])
        record(CaseAction.NOTE_EDITED, actor=actor, target=note.case, detail={"note_id": note.pk})
    return note


def flag_raise(*, actor: User, case: Case, kind: str, note: str = "") -> SafeguardingFlag:
    _require(actor, CHANGE_FLAGS, case, _("You may not raise flags on this case."))
    with transaction.atomic():
        flag = SafeguardingFlag(case=case, kind=kind, note=note, raised_by=actor)
        flag.full_clean()
        flag.save()
        record(
            CaseAction.FLAG_RAISED,
            actor=actor,
            target=case,
            detail={"flag_id": flag.pk, "kind": kind},
        )
    return flag


def flag_clear(*, actor: User, flag: SafeguardingFlag) -> SafeguardingFlag:
    _require(actor, CHANGE_FLAGS, flag.case, _("You may not clear flags on this case."))
    if not flag.active:
        raise IllegalTransition(_("This flag was already cleared."))
    with transaction.atomic():
        flag.active = False
        flag.cleared_by = actor
        flag.cleared_at = timezone.now()
        flag.save(update_fields=["active", "cleared_by", "cleared_at"])
        record(
            CaseAction.FLAG_CLEARED,
            actor=actor,
            target=flag.case,
            detail={"flag_id": flag.pk, "kind": flag.kind},
        )
    return flag


# --- Documents --------------------------------------------------------------------------

# What may be uploaded, judged by the file's bytes (not its name or the browser's claim).
ALLOWED_DOCUMENT_TYPES = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}


def document_upload(
    *,
    actor: User,
    case: Case,
    uploaded_file: UploadedFile,
    kind: str,
    purpose: str,
    description: str = "",
) -> Document:
    """Store a document privately, after checking its size and what its bytes really are."""
    _require(actor, ADD_DOCUMENT, case, _("You may not upload documents to this case."))
    limit = settings.MAX_UPLOAD_MB * 1024 * 1024
    if uploaded_file.size is None or uploaded_file.size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    if uploaded_file.size > limit:
        raise ValidationError(
            {"file": _("The file is larger than %(mb)s MB.") % {"mb": settings.MAX_UPLOAD_MB}}
        )
    head = uploaded_file.read(8192)
    uploaded_file.seek(0)
    sniffed = filetype.guess(head)
    mime = sniffed.mime if sniffed is not None else ""
    if mime == "application/zip" and (uploaded_file.name or "").lower().endswith(".docx"):
        mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    if mime not in ALLOWED_DOCUMENT_TYPES:
        raise ValidationError(
            {"file": _("Upload a PDF, a JPEG, PNG or WebP image, or a Word document.")}
        )
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    original = (
        get_valid_filename((uploaded_file.name or "document").rsplit("/", 1)[-1])[:200]
        or "document"
    )
    with transaction.atomic():
        document = Document(
            case=case,
            storage_key=f"{secrets.token_hex(16)}.{ALLOWED_DOCUMENT_TYPES[mime]}",
            original_name=original,
            content_type=mime,
            size=uploaded_file.size,
            sha256=digest.hexdigest(),
            kind=kind,
            purpose=purpose,
            description=description,
            uploaded_by=actor,
        )
        document.full_clean(exclude=["file"])
        document.file.save(document.storage_key, uploaded_file, save=False)
        try:
            document.save()
            record(
                CaseAction.DOCUMENT_UPLOADED,
                actor=actor,
                target=case,
                detail={
                    "document_id": document.pk,
                    "kind": kind,
                    "purpose": purpose,
                    "size": document.size,
                },
            )
        except Exception:
            document.file.delete(save=False)  # nothing half-stored
            raise
    return document
