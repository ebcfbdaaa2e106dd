"""Capabilities of the casework app: which roles may ever hold which permission.

Holding a capability is never enough: a record is reached only through a grant to the
user's agency (lead agency, accepted referral) or to the user (approved evidence
request, break-glass). Location, the most dangerous fact, reaches an officer only through
break-glass (life at risk, 60 minutes, reviewed), and never an analyst or a prosecutor.
"""

from agencies.models import Role

CARE = frozenset({Role.CASEWORKER, Role.CASE_MANAGER})
ENFORCEMENT = frozenset({Role.OFFICER, Role.PROSECUTOR})

CAPABILITIES: dict[str, frozenset[str]] = {
    # Opening a case is an action of the role, not of a record.
    "casework.add_case": CARE,
    # The summary (no personal data) and active safeguarding flags.
    "casework.view_case": CARE | ENFORCEMENT | {Role.ANALYST},
    "casework.change_case": CARE,
    "casework.manage_case": CARE,
    "casework.view_case_access": CARE,
    # Identity reaches the police only through an approved evidence request naming it.
    "casework.view_case_identity": CARE | {Role.OFFICER},
    "casework.change_case_identity": CARE,
    "casework.view_case_location": CARE | {Role.OFFICER},
    "casework.change_case_location": CARE,
    "casework.view_case_needs": CARE,
    "casework.change_case_needs": CARE,
    "casework.view_case_consents": CARE,
    "casework.change_case_consents": CARE,
    "casework.view_case_notes": CARE | {Role.OFFICER},
    "casework.view_case_lead_notes": CARE,
    "casework.add_case_note": CARE,
    "casework.change_case_flags": CARE,
    "casework.view_case_documents": CARE | ENFORCEMENT,
    "casework.add_case_document": CARE,
    # Transfers of the lead are accepted by the receiving agency's case managers.
    "casework.accept_lead_transfer": frozenset({Role.CASE_MANAGER}),
    # Evidence: an officer asks (on a case shared with the force); the lead agency's care
    # roles decide; an approval grants that officer the approved documents and notes one
    # by one (object grants) and, if asked and agreed, the identity.
    "casework.request_evidence": frozenset({Role.OFFICER}),
    "casework.decide_evidence": CARE,
    "casework.view_document": frozenset({Role.OFFICER}),
    "casework.view_casenote": frozenset({Role.OFFICER}),
    # Break-glass: a role's power, checked against the partnership of the lead agency.
    "casework.break_glass": frozenset({Role.OFFICER, Role.CASE_MANAGER}),
    "casework.review_break_glass": frozenset({Role.CASE_MANAGER}),
    # Officers and prosecutors of agencies that see the case record what justice did.
    "casework.record_justice_outcome": ENFORCEMENT,
}

# What the lead agency's group holds on its cases (its roles narrow it further).
LEAD_PERMISSIONS: tuple[str, ...] = (
    "casework.view_case",
    "casework.change_case",
    "casework.manage_case",
    "casework.view_case_access",
    "casework.view_case_identity",
    "casework.change_case_identity",
    "casework.view_case_location",
    "casework.change_case_location",
    "casework.view_case_needs",
    "casework.change_case_needs",
    "casework.view_case_consents",
    "casework.change_case_consents",
    "casework.view_case_notes",
    "casework.view_case_lead_notes",
    "casework.add_case_note",
    "casework.change_case_flags",
    "casework.view_case_documents",
    "casework.add_case_document",
    "casework.decide_evidence",
    "casework.review_break_glass",
)

# What a former lead keeps after a transfer: read-only history, nothing that moves with
# the person (location) and nothing it could change.
FORMER_LEAD_PERMISSIONS: tuple[str, ...] = (
    "casework.view_case",
    "casework.view_case_needs",
    "casework.view_case_consents",
    "casework.view_case_notes",
    "casework.view_case_lead_notes",
)
