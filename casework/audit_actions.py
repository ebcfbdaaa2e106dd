"""The audit actions of casework: cases and everything recorded on them, their transfers,
possible duplicates, evidence access and break-glass (see ``audit.audit_actions`` for the
convention)."""

from __future__ import annotations

import enum


@enum.unique
class CaseAction(enum.StrEnum):
    CREATED = "case.created"
    UPDATED = "case.updated"
    STATUS_CHANGED = "case.status_changed"
    CLOSED = "case.closed"
    REOPENED = "case.reopened"
    CHILD_STATUS_CHANGED = "case.child_status_changed"
    TURNED_ADULT = "case.turned_adult"
    CASE_TASK_OPENED = "case_task.opened"
    CASE_TASK_MOVED = "case_task.moved"
    CASE_TASK_DONE = "case_task.done"
    # Reads of the sensitive parts (``casework.reads``).
    IDENTITY_VIEWED = "identity.viewed"
    LOCATION_VIEWED = "location.viewed"
    NOTES_VIEWED = "notes.viewed"
    DOCUMENTS_LISTED = "documents.listed"
    DOCUMENT_DOWNLOADED = "document.downloaded"
    IDENTITY_RECORDED = "identity.recorded"
    IDENTITY_CHANGED = "identity.changed"
    LOCATION_RECORDED = "location.recorded"
    NEED_ADDED = "need.added"
    NEED_CHANGED = "need.changed"
    NOTE_ADDED = "note.added"
    NOTE_EDITED = "note.edited"
    FLAG_RAISED = "flag.raised"
    FLAG_CLEARED = "flag.cleared"
    DOCUMENT_UPLOADED = "document.uploaded"
    CONSENT_RECORDED = "consent.recorded"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    TRANSFER_PROPOSED = "transfer.proposed"
    TRANSFER_ACCEPTED = "transfer.accepted"
    TRANSFER_DECLINED = "transfer.declined"
    TRANSFER_WITHDRAWN = "transfer.withdrawn"
    TRANSFER_ENDED = "transfer.ended"
    # No detail names the other case: each side's trail is read by its own agency
    # (``CaseViewSet.audit``), and says only which of its rows and which agency.
    POSSIBLE_DUPLICATE_FOUND = "possible_duplicate.found"
    POSSIBLE_DUPLICATE_DISMISSED = "possible_duplicate.dismissed"
    POSSIBLE_DUPLICATES_LISTED = "possible_duplicates.listed"
    EVIDENCE_REQUESTED = "evidence.requested"
    EVIDENCE_APPROVED = "evidence.approved"
    EVIDENCE_DECLINED = "evidence.declined"
    EVIDENCE_WITHDRAWN = "evidence.withdrawn"
    EVIDENCE_EXPIRED = "evidence.expired"
    EVIDENCE_REVOKED = "evidence.revoked"
    EVIDENCE_EXPIRY_WARNED = "evidence.expiry_warned"
    JUSTICE_OUTCOME_RECORDED = "justice_outcome.recorded"
    BREAKGLASS_OPENED = "breakglass.opened"
    BREAKGLASS_REFUSED = "breakglass.refused"
    BREAKGLASS_REVIEWED = "breakglass.reviewed"
    BREAKGLASS_REVIEW_MOVED = "breakglass.review_moved"
