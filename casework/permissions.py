"""Capabilities of the casework app: which roles may ever hold which permission.

Holding a capability is never enough: a record is reached only through a grant to the
user's agency (lead agency, accepted referral) or to the user (approved evidence
request, break-glass). Location, the most dangerous fact, reaches an officer only through
break-glass (life at risk, 60 minutes, reviewed), and never an analyst or a prosecutor.
"""

from agencies.models import Role

# Permission names: use these, never string copies (a typo would raise, not deny).
ADD_CASE = "casework.add_case"
VIEW_CASE = "casework.view_case"
CHANGE_CASE = "casework.change_case"
MANAGE_CASE = "casework.manage_case"
VIEW_CASE_ACCESS = "casework.view_case_access"
VIEW_IDENTITY = "casework.view_case_identity"
CHANGE_IDENTITY = "casework.change_case_identity"
VIEW_LOCATION = "casework.view_case_location"
CHANGE_LOCATION = "casework.change_case_location"
VIEW_NEEDS = "casework.view_case_needs"
CHANGE_NEEDS = "casework.change_case_needs"
VIEW_CONSENTS = "casework.view_case_consents"
CHANGE_CONSENTS = "casework.change_case_consents"
VIEW_NOTES = "casework.view_case_notes"
VIEW_LEAD_NOTES = "casework.view_case_lead_notes"
ADD_NOTE = "casework.add_case_note"
CHANGE_FLAGS = "casework.change_case_flags"
VIEW_DOCUMENTS = "casework.view_case_documents"
ADD_DOCUMENT = "casework.add_case_document"
ACCEPT_LEAD_TRANSFER = "casework.accept_lead_transfer"
REQUEST_EVIDENCE = "casework.request_evidence"
DECIDE_EVIDENCE = "casework.decide_evidence"
VIEW_DOCUMENT = "casework.view_document"
VIEW_CASENOTE = "casework.view_casenote"
BREAK_GLASS = "casework.break_glass"
REVIEW_BREAK_GLASS = "casework.review_break_glass"
RECORD_JUSTICE_OUTCOME = "casework.record_justice_outcome"
WORK_CASE_TASK = "casework.change_casetask"

CARE = frozenset({Role.CASEWORKER, Role.CASE_MANAGER})
ENFORCEMENT = frozenset({Role.OFFICER, Role.PROSECUTOR})

CAPABILITIES: dict[str, frozenset[str]] = {
    # Opening a case is an action of the role, not of a record.
    ADD_CASE: CARE,
    # The summary (no personal data) and active safeguarding flags.
    VIEW_CASE: CARE | ENFORCEMENT | {Role.ANALYST},
    CHANGE_CASE: CARE,
    MANAGE_CASE: CARE,
    VIEW_CASE_ACCESS: CARE,
    # Identity reaches the police only through an approved evidence request naming it.
    VIEW_IDENTITY: CARE | {Role.OFFICER},
    CHANGE_IDENTITY: CARE,
    VIEW_LOCATION: CARE | {Role.OFFICER},
    CHANGE_LOCATION: CARE,
    VIEW_NEEDS: CARE,
    CHANGE_NEEDS: CARE,
    VIEW_CONSENTS: CARE,
    CHANGE_CONSENTS: CARE,
    VIEW_NOTES: CARE | {Role.OFFICER},
    VIEW_LEAD_NOTES: CARE,
    ADD_NOTE: CARE,
    CHANGE_FLAGS: CARE,
    VIEW_DOCUMENTS: CARE | ENFORCEMENT,
    ADD_DOCUMENT: CARE,
    # Transfers of the lead are accepted by the receiving agency's case managers.
    ACCEPT_LEAD_TRANSFER: frozenset({Role.CASE_MANAGER}),
    # Evidence: an officer asks (on a case shared with the force); the lead agency's care
    # roles decide; an approval grants that officer the approved documents and notes one
    # by one (object grants) and, if asked and agreed, the identity.
    REQUEST_EVIDENCE: frozenset({Role.OFFICER}),
    DECIDE_EVIDENCE: CARE,
    VIEW_DOCUMENT: frozenset({Role.OFFICER}),
    VIEW_CASENOTE: frozenset({Role.OFFICER}),
    # Break-glass: a role's power, checked against the partnership of the lead agency.
    BREAK_GLASS: frozenset({Role.OFFICER, Role.CASE_MANAGER}),
    # Its review falls to the lead agency's case managers, else its agency admins, else
    # the managers of the partnership in force. Which events a reviewer
    # reviews is decided by membership, not grants (``BreakGlassEvent.objects
    # .to_review_by``), and reviewing gives no sight of the case: a partnership manager
    # sees the event (who, when, why, what was read), never the person.
    REVIEW_BREAK_GLASS: frozenset({Role.CASE_MANAGER, Role.AGENCY_ADMIN, Role.PARTNERSHIP_MANAGER}),
    # Officers and prosecutors of agencies that see the case record what justice did.
    RECORD_JUSTICE_OUTCOME: ENFORCEMENT,
    # Case tasks are an agency's, not a grant's: a member of the task's agency
    # who sees the case marks it done (``CaseTask.objects.visible_to``). Officers too: an
    # MS1 may fall to a police force (the duty to notify).
    WORK_CASE_TASK: CARE | {Role.OFFICER},
}

# What the lead agency's group holds on its cases (its roles narrow it further).
LEAD_PERMISSIONS: tuple[str, ...] = (
    VIEW_CASE,
    CHANGE_CASE,
    MANAGE_CASE,
    VIEW_CASE_ACCESS,
    VIEW_IDENTITY,
    CHANGE_IDENTITY,
    VIEW_LOCATION,
    CHANGE_LOCATION,
    VIEW_NEEDS,
    CHANGE_NEEDS,
    VIEW_CONSENTS,
    CHANGE_CONSENTS,
    VIEW_NOTES,
    VIEW_LEAD_NOTES,
    ADD_NOTE,
    CHANGE_FLAGS,
    VIEW_DOCUMENTS,
    ADD_DOCUMENT,
    DECIDE_EVIDENCE,
    REVIEW_BREAK_GLASS,
)

# What a former lead keeps after a transfer: read-only history, nothing that moves with
# the person (location) and nothing it could change.
FORMER_LEAD_PERMISSIONS: tuple[str, ...] = (
    VIEW_CASE,
    VIEW_NEEDS,
    VIEW_CONSENTS,
    VIEW_NOTES,
    VIEW_LEAD_NOTES,
)
