"""Reads of sensitive parts of a case: each checks the permission and writes the audit.

Identity, location, notes and documents are never read any other way in views or the
API, so "who has viewed the identity and location" is complete. A part the user may not
read is 404 at both doors, as if it were absent, and the refused read is audited
(``access.denied``): the access contract's answer for a hidden part of a visible case.
"""

from __future__ import annotations

import operator
from functools import reduce
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404

from agencies import access
from audit.record import record
from core import blind_index

from .audit_actions import CaseAction
from .models import Case, CaseLocation, CaseNote, Document, NoteVisibility, VictimIdentity
from .permissions import (
    VIEW_CASENOTE,
    VIEW_DOCUMENT,
    VIEW_DOCUMENTS,
    VIEW_IDENTITY,
    VIEW_LEAD_NOTES,
    VIEW_LOCATION,
    VIEW_NOTES,
)


def _perms(user: Any, case: Case, perms: frozenset[str] | None) -> frozenset[str]:
    return perms if perms is not None else access.perms_for(user, case)


def hidden(user: Any, case: Case, perm: str) -> Http404:
    """A part of ``case`` the user may not read: audit the refused read and return the
    404 to raise, the same answer as for a part that does not exist."""
    access.refuse(user, case, perm)
    return Http404()


def identity(
    user: Any, case: Case, *, perms: frozenset[str] | None = None, why: str = ""
) -> VictimIdentity | None:
    if VIEW_IDENTITY not in _perms(user, case, perms):
        raise hidden(user, case, VIEW_IDENTITY)
    found = VictimIdentity.objects.filter(case=case).first()
    record(CaseAction.IDENTITY_VIEWED, actor=user, target=case, detail={"why": why} if why else {})
    return found


def location(
    user: Any, case: Case, *, perms: frozenset[str] | None = None
) -> tuple[CaseLocation | None, list[CaseLocation]]:
    """The current location and the history."""
    if VIEW_LOCATION not in _perms(user, case, perms):
        raise hidden(user, case, VIEW_LOCATION)
    history = list(CaseLocation.objects.filter(case=case).select_related("recorded_by"))
    current = next((loc for loc in history if loc.ended_at is None), None)
    record(CaseAction.LOCATION_VIEWED, actor=user, target=case)
    return current, history


def notes(user: Any, case: Case, *, perms: frozenset[str] | None = None) -> QuerySet[CaseNote]:
    """Notes the user may read: case-team notes to the case team; notes kept to the lead
    agency to the current lead, and to a former lead only those it wrote itself (its
    history, not its successor's)."""
    held = _perms(user, case, perms)
    membership = access.active_membership(user)
    visible = []
    if VIEW_NOTES in held:
        visible.append(Q(visibility=NoteVisibility.CASE_TEAM))
    if access.user_may(user, VIEW_CASENOTE):
        # Notes granted one by one (an approved evidence request).
        granted = CaseNote.objects.visible_to(user, VIEW_CASENOTE).filter(case=case)
        visible.append(Q(pk__in=granted.values("pk"), visibility=NoteVisibility.CASE_TEAM))
    if VIEW_LEAD_NOTES in held:
        if user.is_superuser or (
            membership is not None and membership.agency_id == case.lead_agency_id
        ):
            visible.append(Q(visibility=NoteVisibility.LEAD_AGENCY))
        elif membership is not None:
            visible.append(Q(visibility=NoteVisibility.LEAD_AGENCY, agency_id=membership.agency_id))
    if not visible:
        raise hidden(user, case, VIEW_NOTES)
    found = CaseNote.objects.filter(reduce(operator.or_, visible), case=case).select_related(
        "author", "agency"
    )
    if VIEW_NOTES in held or VIEW_LEAD_NOTES in held:
        record(CaseAction.NOTES_VIEWED, actor=user, target=case)
    else:
        # Notes granted one by one: the record names each, so the lead agency sees
        # exactly which granted notes the officer read.
        note_ids = list(found.values_list("pk", flat=True))
        record(CaseAction.NOTES_VIEWED, actor=user, target=case, detail={"note_ids": note_ids})
    return found


def _documents(user: Any, case: Case, perms: frozenset[str] | None) -> QuerySet[Document] | None:
    """All the case's documents, the ones granted to the user one by one (an approved
    evidence request), or None."""
    if VIEW_DOCUMENTS in _perms(user, case, perms):
        return Document.objects.filter(case=case)
    if access.user_may(user, VIEW_DOCUMENT):
        return Document.objects.visible_to(user, VIEW_DOCUMENT).filter(case=case)
    return None


def documents(user: Any, case: Case, *, perms: frozenset[str] | None = None) -> QuerySet[Document]:
    found = _documents(user, case, perms)
    if found is None:
        raise hidden(user, case, VIEW_DOCUMENTS)
    record(CaseAction.DOCUMENTS_LISTED, actor=user, target=case)
    return found.select_related("uploaded_by")


def document_for_download(user: Any, case: Case, document_id: int) -> Document:
    """One document, for download; the download itself is audited. A document the user
    may not see is 404, as if it did not exist, and the refused attempt is audited."""
    found = _documents(user, case, None)
    document = found.filter(pk=document_id).first() if found is not None else None
    if document is None:
        if Document.objects.filter(case=case, pk=document_id).exists():
            raise hidden(user, case, VIEW_DOCUMENTS)
        raise Http404
    record(
        CaseAction.DOCUMENT_DOWNLOADED, actor=user, target=case, detail={"document_id": document.pk}
    )
    return document


def child_or_404(user: Any, queryset: QuerySet[Any], case: Case, perm: str, child_id: Any) -> Any:
    """A record of ``case`` named in a URL (a need, a consent, a flag, a transfer), at
    both doors, once the caller may see that part of the case.

    One that does not exist and one of another case are the same 404; asking for one of
    a case whose ``perm`` the caller does not hold is audited, as a hidden record is.
    """
    found = queryset.filter(case=case, pk=child_id).first()
    if found is not None:
        return found
    elsewhere = queryset.model._default_manager.filter(pk=child_id).select_related("case").first()
    if elsewhere is not None and not access.can(user, perm, elsewhere.case):
        access.refuse(user, elsewhere, perm)
    raise Http404


# How many possible duplicates the "tell your story once" warning names at most.
DUPLICATE_LIMIT = 10


def possible_duplicates(
    user: Any,
    *,
    given_name: str,
    family_name: str,
    date_of_birth: Any,
    exclude_case_id: int | None = None,
) -> list[Case]:
    """Cases of someone with the same names and date of birth whose identity the user may
    see ("tell your story once").

    Naming a case here discloses that it holds this identity, so each is read, and
    audited, through ``identity`` with the reason.
    """
    found = blind_index.tokens(
        settings.CONCORD_BLIND_INDEX_KEY,
        given_name=given_name,
        family_name=family_name,
        date_of_birth=date_of_birth,
    )
    if not found:
        return []
    # The names are encrypted: the same person is found by the blind index, which also
    # meets "ANA NOVÁK" with "Ana Novak" and the names written the other way round.
    identities = VictimIdentity.objects.filter(
        match_exact=found.exact,
        case__in=Case.objects.visible_to(user, VIEW_IDENTITY),
    )
    if exclude_case_id is not None:
        identities = identities.exclude(case_id=exclude_case_id)
    matches = identities.values_list("case_id", flat=True)[:DUPLICATE_LIMIT]
    cases = list(
        Case.objects.select_related("lead_agency")
        .filter(pk__in=list(matches))
        .order_by("reference")
    )
    for case in cases:
        identity(user, case, why="possible duplicate")
    return cases
