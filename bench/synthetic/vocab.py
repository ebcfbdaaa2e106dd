"""The mixes the synthetic partnership is drawn from.

Proportions follow the shape of the UK NRM statistics in DOMAIN.md closely enough for
benchmarks (labour and criminal exploitation most common, about four in ten exploited as
children, most potential victims male, British, Albanian, Eritrean, Sudanese and
Vietnamese the largest nationalities); they are not statistics. Nothing here is personal
data: the names are common given and family names combined at random, the phone numbers
are in Ofcom's range reserved for drama, the email domain is reserved for examples.
"""

from __future__ import annotations

from agencies.models import AgencyKind, Role
from casework.models import (
    AccommodationType,
    ClosureReason,
    ConsentMethod,
    DocumentKind,
    ExploitationType,
    Gender,
    HowIdentified,
    NeedCategory,
    RiskLevel,
)
from referrals.models import ReferralKind, Urgency

# Markers that make every synthetic row findable (and nothing else).
AGENCY_PREFIX = "Synthetic Agency "
GROUP_PREFIX = "agency:" + AGENCY_PREFIX
PARTNERSHIP_PREFIX = "Synthetic Partnership "
USERNAME_PREFIX = "synth-"
CASE_PREFIX = "SYN-"
AUDIT_REQUEST_ID = "synthetic-seed"
STORAGE_KEY_PREFIX = "synthetic-"

Weighted = tuple[tuple[str, float], ...]

EXPLOITATION_TYPES: Weighted = (
    (ExploitationType.CRIMINAL, 0.30),
    (ExploitationType.LABOUR, 0.30),
    (ExploitationType.SEXUAL, 0.17),
    (ExploitationType.DOMESTIC_SERVITUDE, 0.07),
    (ExploitationType.ORGAN_HARVESTING, 0.002),
    (ExploitationType.UNKNOWN, 0.158),
)
RISK_LEVELS: Weighted = (
    (RiskLevel.STANDARD, 0.45),
    (RiskLevel.MEDIUM, 0.30),
    (RiskLevel.HIGH, 0.20),
    (RiskLevel.IMMEDIATE, 0.05),
)
GENDERS: Weighted = (
    (Gender.MALE, 0.76),
    (Gender.FEMALE, 0.22),
    (Gender.OTHER, 0.01),
    (Gender.UNKNOWN, 0.01),
)
HOW_IDENTIFIED: Weighted = (
    (HowIdentified.POLICE_OPERATION, 0.30),
    (HowIdentified.NGO_OUTREACH, 0.22),
    (HowIdentified.SELF_REFERRAL, 0.18),
    (HowIdentified.HEALTH, 0.08),
    (HowIdentified.INSPECTION, 0.07),
    (HowIdentified.OTHER, 0.15),
)
CLOSURE_REASONS: Weighted = (
    (ClosureReason.SUPPORT_COMPLETE, 0.45),
    (ClosureReason.MOVED_ON, 0.20),
    (ClosureReason.LOST_CONTACT, 0.15),
    (ClosureReason.RETURNED_HOME, 0.08),
    (ClosureReason.NOT_A_VICTIM, 0.07),
    (ClosureReason.OTHER, 0.049),
    (ClosureReason.DIED, 0.001),
)
CLOSURE_NOTES = (
    "Closed after review with the person.",
    "Transferred to long-term support elsewhere.",
    "No contact for three months despite attempts.",
)

# (ISO code, weight, first language). "" is an unknown nationality.
NATIONALITIES: tuple[tuple[str, float, str], ...] = (
    ("GB", 0.25, "English"),
    ("AL", 0.12, "Albanian"),
    ("ER", 0.05, "Tigrinya"),
    ("VN", 0.05, "Vietnamese"),
    ("SD", 0.05, "Arabic"),
    ("AF", 0.04, "Dari"),
    ("RO", 0.04, "Romanian"),
    ("IR", 0.03, "Farsi"),
    ("IN", 0.03, "Punjabi"),
    ("NG", 0.03, "English"),
    ("PL", 0.02, "Polish"),
    ("CN", 0.02, "Mandarin"),
    ("UA", 0.02, "Ukrainian"),
    ("IQ", 0.02, "Kurdish Sorani"),
    ("ET", 0.02, "Amharic"),
    ("SY", 0.02, "Arabic"),
    ("PK", 0.02, "Urdu"),
    ("LT", 0.01, "Lithuanian"),
    ("BG", 0.01, "Bulgarian"),
    ("SK", 0.01, "Slovak"),
    ("PH", 0.01, "Tagalog"),
    ("BD", 0.01, "Bengali"),
    ("", 0.11, ""),
)

GIVEN_NAMES = (
    "Adam", "Ali", "Amir", "Andrei", "Anh", "Ardit", "Bashir", "Daniel", "Dawit", "Elena",
    "Emmanuel", "Erion", "Fatima", "Grace", "Hassan", "Ibrahim", "Ion", "James", "Jia", "Joseph",
    "Klodian", "Lan", "Maria", "Marek", "Mehmet", "Minh", "Mohammed", "Nadia", "Olena", "Omar",
    "Petra", "Reza", "Samuel", "Sara", "Tesfay", "Thanh", "Tomasz", "Yonas", "Yusuf", "Zainab",
)  # fmt: skip
FAMILY_NAMES = (
    "Abdi", "Ahmadi", "Ahmed", "Ali", "Berhe", "Bui", "Chen", "Ciobanu", "Dang", "Doci",
    "Ekwueme", "Gashi", "Ghebre", "Hassan", "Hoang", "Hosseini", "Hoxha", "Ibrahim", "Ivanov",
    "Jones", "Kaur", "Khan", "Kowalski", "Krasniqi", "Le", "Li", "Mahmoud", "Mensah", "Mohamed",
    "Nguyen", "Novak", "Okafor", "Osman", "Pham", "Popescu", "Rahimi", "Rossi", "Shehu",
    "Singh", "Smith", "Stan", "Tesfaye", "Tran", "Wang", "Williams", "Wisniewski", "Yilmaz",
    "Yohannes", "Zhang", "Zeqiri",
)  # fmt: skip

REGIONS = (
    "North East", "North West", "Yorkshire and the Humber", "East Midlands", "West Midlands",
    "East of England", "London", "South East", "South West", "Wales",
)  # fmt: skip

# The kinds of the agencies after the first (a national charity), in turn.
KIND_CYCLE = (
    AgencyKind.POLICE,
    AgencyKind.SOCIAL_SERVICES,
    AgencyKind.CHARITY,
    AgencyKind.LOCAL_AUTHORITY,
    AgencyKind.HEALTH,
    AgencyKind.CHARITY,
    AgencyKind.HOUSING,
    AgencyKind.POLICE,
    AgencyKind.PROSECUTION,
    AgencyKind.SOCIAL_SERVICES,
    AgencyKind.LABOUR_INSPECTORATE,
    AgencyKind.CHARITY,
    AgencyKind.COMMUNITY_GROUP,
    AgencyKind.NATIONAL_AGENCY,
    AgencyKind.IMMIGRATION,
)
# How much of the caseload an agency of a kind leads (before a per-agency jitter).
LEAD_WEIGHT = {
    AgencyKind.CHARITY: 3.0,
    AgencyKind.SOCIAL_SERVICES: 3.0,
    AgencyKind.LOCAL_AUTHORITY: 2.0,
    AgencyKind.POLICE: 1.5,
    AgencyKind.COMMUNITY_GROUP: 0.8,
    AgencyKind.HEALTH: 0.3,
    AgencyKind.HOUSING: 0.3,
    AgencyKind.LABOUR_INSPECTORATE: 0.2,
}
FIRST_RESPONDER_KINDS = frozenset(
    {
        AgencyKind.POLICE,
        AgencyKind.SOCIAL_SERVICES,
        AgencyKind.LOCAL_AUTHORITY,
        AgencyKind.CHARITY,
        AgencyKind.LABOUR_INSPECTORATE,
        AgencyKind.NATIONAL_AGENCY,
        AgencyKind.IMMIGRATION,
    }
)

# Roles of an agency's users after its first two (a case manager and a caseworker).
# Officers and analysts only where they fit (agencies.models.ROLE_AGENCY_KINDS).
_CARE_MIX: Weighted = (
    (Role.CASEWORKER, 0.71),
    (Role.CASE_MANAGER, 0.17),
    (Role.AGENCY_ADMIN, 0.07),
    (Role.PARTNERSHIP_MANAGER, 0.05),
)
_ENFORCEMENT_MIX: Weighted = (
    (Role.OFFICER, 0.62),
    (Role.ANALYST, 0.18),
    (Role.CASEWORKER, 0.08),
    (Role.CASE_MANAGER, 0.04),
    (Role.AGENCY_ADMIN, 0.05),
    (Role.PARTNERSHIP_MANAGER, 0.03),
)
ROLE_MIX: dict[str, Weighted] = {
    AgencyKind.POLICE: _ENFORCEMENT_MIX,
    AgencyKind.LABOUR_INSPECTORATE: _ENFORCEMENT_MIX,
    AgencyKind.NATIONAL_AGENCY: _ENFORCEMENT_MIX,
    AgencyKind.IMMIGRATION: _ENFORCEMENT_MIX,
    AgencyKind.PROSECUTION: (
        (Role.PROSECUTOR, 0.75),
        (Role.CASE_MANAGER, 0.15),
        (Role.AGENCY_ADMIN, 0.10),
    ),
}
DEFAULT_ROLE_MIX = _CARE_MIX

REFERRAL_KINDS: Weighted = (
    (ReferralKind.ACCOMMODATION, 0.22),
    (ReferralKind.CASEWORK_SUPPORT, 0.20),
    (ReferralKind.HEALTH, 0.14),
    (ReferralKind.POLICE_CRIME_REPORT, 0.15),
    (ReferralKind.LEGAL_ADVICE, 0.12),
    (ReferralKind.REPATRIATION_SUPPORT, 0.05),
    (ReferralKind.PROSECUTION_FILE, 0.03),
    (ReferralKind.OTHER, 0.09),
)
# Which kinds of agency receive a kind of referral, and how readily. Kinds absent from a
# row never receive it (police crime reports and prosecution files are strict, as in
# referrals.services.KIND_AGENCIES).
REFERRAL_RECEIVERS: dict[str, dict[str, float]] = {
    ReferralKind.ACCOMMODATION: {
        AgencyKind.CHARITY: 3,
        AgencyKind.HOUSING: 3,
        AgencyKind.LOCAL_AUTHORITY: 2,
        AgencyKind.SOCIAL_SERVICES: 1,
    },
    ReferralKind.CASEWORK_SUPPORT: {
        AgencyKind.CHARITY: 3,
        AgencyKind.SOCIAL_SERVICES: 2,
        AgencyKind.COMMUNITY_GROUP: 1,
    },
    ReferralKind.HEALTH: {AgencyKind.HEALTH: 6, AgencyKind.CHARITY: 0.5},
    ReferralKind.POLICE_CRIME_REPORT: {AgencyKind.POLICE: 1},
    ReferralKind.LEGAL_ADVICE: {AgencyKind.CHARITY: 2, AgencyKind.COMMUNITY_GROUP: 2},
    ReferralKind.REPATRIATION_SUPPORT: {
        AgencyKind.IMMIGRATION: 3,
        AgencyKind.NATIONAL_AGENCY: 1,
        AgencyKind.CHARITY: 1,
    },
    ReferralKind.PROSECUTION_FILE: {AgencyKind.PROSECUTION: 1},
    ReferralKind.OTHER: {kind: 1 for kind in AgencyKind.values},
}
STRICT_REFERRAL_KINDS = frozenset({ReferralKind.POLICE_CRIME_REPORT, ReferralKind.PROSECUTION_FILE})
REFERRAL_URGENCIES: Weighted = (
    (Urgency.ROUTINE, 0.60),
    (Urgency.URGENT, 0.30),
    (Urgency.EMERGENCY, 0.10),
)
REFERRAL_REASONS = {
    ReferralKind.ACCOMMODATION: "Needs safe accommodation away from the exploiters.",
    ReferralKind.CASEWORK_SUPPORT: "Needs a caseworker for day-to-day support.",
    ReferralKind.HEALTH: "Needs a health assessment and registration with a GP.",
    ReferralKind.POLICE_CRIME_REPORT: "Wishes to report the exploitation to the police.",
    ReferralKind.LEGAL_ADVICE: "Needs advice on immigration status and compensation.",
    ReferralKind.REPATRIATION_SUPPORT: "Asks for help to return home safely.",
    ReferralKind.PROSECUTION_FILE: "Evidence file for a charging decision.",
    ReferralKind.OTHER: "Needs support this agency offers.",
}
DECLINE_REASONS = (
    "No capacity this month.",
    "Outside our area.",
    "The person's needs are beyond what we offer.",
)

NEED_CATEGORIES: Weighted = (
    (NeedCategory.SAFE_ACCOMMODATION, 0.14),
    (NeedCategory.PRACTICAL_HELP, 0.12),
    (NeedCategory.HEALTHCARE, 0.12),
    (NeedCategory.FINANCIAL_SUPPORT, 0.10),
    (NeedCategory.INTERPRETATION, 0.08),
    (NeedCategory.PSYCHOLOGICAL_SUPPORT, 0.12),
    (NeedCategory.LEGAL_IMMIGRATION, 0.09),
    (NeedCategory.LEGAL_COMPENSATION, 0.05),
    (NeedCategory.TRANSPORT, 0.07),
    (NeedCategory.CHILDREN_EDUCATION, 0.03),
    (NeedCategory.FUTURE_PLANNING, 0.08),
)
NEED_NOTES = (
    "",
    "",
    "Agreed at the first meeting.",
    "Follow up with the provider.",
    "Waiting for an appointment.",
)

NOTE_TOPICS = (
    "accommodation",
    "health appointments",
    "finances",
    "legal advice",
    "the NRM decision",
    "contact with family",
    "education and training",
    "travel to appointments",
    "wellbeing",
    "safety planning",
)
NOTE_TEMPLATES = (
    "Check-in by phone; talked about {topic}. Next contact in {days} days.",
    "Met in person; {topic} is progressing. Review in {days} days.",
    "Called the provider about {topic}; waiting for an answer within {days} days.",
    "The person raised a worry about {topic}; agreed next steps, follow-up in {days} days.",
    "Interpreter booked for the session on {topic} in {days} days.",
)

CONSENT_LANGUAGES = ("Albanian", "Vietnamese", "Tigrinya", "Arabic", "Romanian", "Farsi")
SAFEGUARDING_REASONS = (
    "Child at risk of significant harm; strategy meeting agreed to share.",
    "Child in care; safeguarding duty to share with the named agency.",
)

DOCUMENT_KINDS: tuple[tuple[str, float, str, str], ...] = (
    # kind, weight, content type, extension
    (DocumentKind.STATEMENT, 0.30, "application/pdf", "pdf"),
    (DocumentKind.MEDICAL, 0.20, "application/pdf", "pdf"),
    (DocumentKind.IDENTITY_DOCUMENT, 0.15, "image/jpeg", "jpg"),
    (DocumentKind.PHOTO, 0.15, "image/jpeg", "jpg"),
    (DocumentKind.OTHER, 0.20, "application/pdf", "pdf"),
)
ACCOMMODATION_TYPES: Weighted = (
    (AccommodationType.SAFE_HOUSE, 0.45),
    (AccommodationType.LOCAL_AUTHORITY, 0.20),
    (AccommodationType.OWN_HOME, 0.20),
    (AccommodationType.HOSPITAL, 0.03),
    (AccommodationType.OTHER, 0.12),
)
CONSENT_METHODS_ADULT: Weighted = (
    (ConsentMethod.WRITTEN, 0.5),
    (ConsentMethod.VERBAL, 0.25),
    (ConsentMethod.VERBAL_INTERPRETER, 0.25),
)
