"""Demo cases at Harbour Trust and the Council. All names are invented.

Idempotent: an agency that already leads a case gets no more demo cases.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, User

from . import consents, services
from .evidence import break_glass
from .models import BreakGlassEvent, BreakGlassGrounds, Case, CaseUserGrant

TODAY = timezone.localdate


def _days(n: int) -> datetime.date:
    return TODAY() + datetime.timedelta(days=n)


def _born(years: int, months: int) -> datetime.date:
    """A date of birth that makes the person ``years`` and ``months`` old today: the demo's
    children stay children whenever it is seeded."""
    return TODAY() - datetime.timedelta(days=round((years + months / 12) * 365.25))


HARBOUR_CASES: list[dict[str, Any]] = [
    {
        "case": {
            "exploitation_types": ["labour"],
            "risk_level": "high",
            "gender": "male",
            "nationality": "RO",
            "first_language": "Romanian",
            "interpreter_needed": True,
            "region": "Northshire",
            "how_identified": "inspection",
        },
        "identity": {
            "given_name": "Mihai",
            "family_name": "Dumitru",
            "date_of_birth": datetime.date(1991, 5, 17),
            "phone": "07700 900101",
        },
        "location": ("safe_house", "Harbour Trust safe house 2, Northshire"),
        "needs": [
            ("safe_accommodation", "met", -20),
            ("legal_compensation", "in_progress", 14),
            ("healthcare", "identified", -3),
        ],
        "consents": [
            ("police_contact", "verbal_interpreter", "Romanian"),
            ("nrm_referral", "written", ""),
        ],
        "notes": [
            (
                "First meeting at the farm inspection; very tired, worried about his passport.",
                "lead_agency",
            ),
            ("Dental pain reported; GP appointment booked.", "case_team"),
        ],
        "flags": [("trafficker_looking", "A gangmaster has asked other workers where he went.")],
        "status": "active",
    },
    {
        "case": {
            "exploitation_types": ["sexual"],
            "risk_level": "immediate",
            "gender": "female",
            "nationality": "AL",
            "first_language": "Albanian",
            "interpreter_needed": True,
            "region": "Northshire",
            "how_identified": "ngo_outreach",
        },
        "identity": {
            "given_name": "Elira",
            "family_name": "Basha",
            "date_of_birth": datetime.date(2001, 11, 2),
        },
        "location": ("safe_house", "Harbour Trust safe house 1, Northshire"),
        "needs": [
            ("safe_accommodation", "met", -30),
            ("psychological_support", "in_progress", 7),
            ("legal_immigration", "identified", 21),
        ],
        "consents": [("nrm_referral", "verbal_interpreter", "Albanian")],
        "notes": [("Settling in; does not want contact with police yet.", "lead_agency")],
        "flags": [
            ("do_not_disclose_location", "Former partner linked to the exploiters."),
            ("re_trafficking", ""),
        ],
        "status": "active",
    },
    {
        "case": {
            "exploitation_types": ["domestic_servitude"],
            "risk_level": "medium",
            "gender": "female",
            "nationality": "PH",
            "first_language": "Tagalog",
            "region": "Northshire",
            "how_identified": "self_referral",
        },
        "identity": {
            "given_name": "Maricel",
            "family_name": "Santos",
            "date_of_birth": datetime.date(1985, 2, 9),
        },
        "location": ("local_authority", "Flat 4, 12 Harbour View, Northshire"),
        "needs": [("financial_support", "met", -10), ("future_planning", "identified", 60)],
        "consents": [("share_identity_council", "written", "")],
        "notes": [("Employer kept her passport for three years.", "case_team")],
        "flags": [],
        "status": "open",
    },
    {
        "case": {
            "exploitation_types": ["criminal"],
            "county_lines": True,
            "exploited_as_child": True,
            "risk_level": "high",
            "gender": "male",
            "nationality": "GB",
            "first_language": "English",
            "region": "Northshire",
            "how_identified": "police_operation",
        },
        # "Under 18 now" is worked out from the date of birth.
        "identity": {"given_name": "Jordan", "family_name": "Avery", "date_of_birth": _born(15, 4)},
        "location": ("local_authority", "Foster placement (address held by the Council)"),
        "needs": [
            ("children_education", "in_progress", 10),
            ("psychological_support", "identified", -1),
        ],
        "consents": [("nrm_referral_child", "safeguarding_basis", "")],
        "notes": [
            (
                "Found with a phone used to take drug orders; frightened of older members.",
                "lead_agency",
            )
        ],
        "flags": [("self_harm", "Mentioned thoughts of self-harm; GP aware.")],
        "status": "active",
    },
    {
        "case": {
            "exploitation_types": ["labour", "criminal"],
            "risk_level": "standard",
            "gender": "male",
            "nationality": "VN",
            "first_language": "Vietnamese",
            "interpreter_needed": True,
            "region": "Northshire",
            "how_identified": "ngo_outreach",
        },
        "identity": {
            "given_name": "Van",
            "family_name": "Nguyen",
            "date_of_birth": datetime.date(1996, 8, 30),
        },
        "location": ("own_home", "Shared house, Northshire"),
        "needs": [("legal_immigration", "met", -40)],
        "consents": [],
        "notes": [("Moved on to work with a legal employer; support complete.", "lead_agency")],
        "flags": [],
        "status": "closed",
    },
]

COUNCIL_CASES: list[dict[str, Any]] = [
    {
        "case": {
            "exploitation_types": ["labour"],
            "risk_level": "medium",
            "gender": "male",
            "nationality": "PL",
            "first_language": "Polish",
            "region": "Northshire",
            "how_identified": "health",
        },
        "identity": {
            "given_name": "Tomasz",
            "family_name": "Wiśniewski",
            "date_of_birth": datetime.date(1979, 4, 21),
        },
        "location": ("local_authority", "Council hostel, Northshire"),
        "needs": [("practical_help", "in_progress", 5), ("healthcare", "met", -12)],
        "consents": [("police_contact", "written", "")],
        "notes": [("Referred by the hospital after a fall at a car wash.", "case_team")],
        "flags": [],
        "status": "active",
    },
    {
        "case": {
            "exploitation_types": ["unknown"],
            "risk_level": "standard",
            "gender": "unknown",
            "region": "Northshire",
            "how_identified": "other",
        },
        "identity": {"given_name": "", "family_name": "", "estimated_age": 30},
        "location": None,
        "needs": [("interpretation", "identified", 2)],
        "consents": [],
        "notes": [
            ("Anonymous contact through the helpline; language not yet known.", "lead_agency")
        ],
        "flags": [],
        "status": "open",
    },
    {
        # The same person as Harbour Trust's Elira Basha, written as the Council's intake
        # form has it: both case pages show a possible match at the other agency.
        "case": {
            "exploitation_types": ["sexual"],
            "risk_level": "high",
            "gender": "female",
            "nationality": "AL",
            "first_language": "Albanian",
            "interpreter_needed": True,
            "region": "Northshire",
            "how_identified": "health",
        },
        "identity": {
            "given_name": "ELIRA",
            "family_name": "BASHA",
            "date_of_birth": datetime.date(2001, 11, 2),
        },
        "location": None,
        "needs": [("healthcare", "identified", 3)],
        "consents": [],
        "notes": [("Seen at the sexual health clinic; asked for a female worker.", "lead_agency")],
        "flags": [],
        "status": "open",
    },
    {
        # Age disputed: the papers the exploiters held make him an adult, he says
        # he is 16; he is treated as a child until his age is assessed (MSA 2015 s.51).
        "case": {
            "exploitation_types": ["criminal"],
            "age_disputed": True,
            "risk_level": "high",
            "gender": "male",
            "nationality": "ER",
            "first_language": "Tigrinya",
            "interpreter_needed": True,
            "region": "Northshire",
            "how_identified": "police_operation",
        },
        "identity": {
            "given_name": "Dawit",
            "family_name": "Tesfaye",
            "date_of_birth": _born(19, 7),
            "estimated_age": 16,
        },
        "location": ("local_authority", "Supported lodgings (address held by the Council)"),
        "needs": [("safe_accommodation", "met", -2), ("legal_immigration", "identified", 10)],
        "consents": [],
        "notes": [
            (
                "Says he is 16; the documents found at the car wash give an older date of "
                "birth. Age assessment requested from children's services.",
                "lead_agency",
            )
        ],
        "flags": [],
        "status": "active",
    },
]


def _seed_case(actor: User, council: Agency, spec: dict[str, Any]) -> Case:
    identity = {k: v for k, v in spec["identity"].items() if v not in ("", None)}
    case = services.case_create(actor=actor, identity=identity or None, **spec["case"])
    if spec["location"]:
        kind, address = spec["location"]
        services.location_set(
            actor=actor, case=case, accommodation_type=kind, address=address, since=_days(-25)
        )
    for category, status, due in spec["needs"]:
        need = services.need_add(actor=actor, case=case, category=category, target_date=_days(due))
        if status != "identified":
            services.need_update(actor=actor, need=need, status=status)
    for scope, method, language in spec["consents"]:
        if scope == "share_identity_council":
            consents.consent_record(
                actor=actor, case=case, scope="share_identity", agency=council, method=method
            )
        elif scope == "nrm_referral_child":
            consents.consent_record(
                actor=actor,
                case=case,
                scope="nrm_referral",
                method=method,
                basis_reason="Child: referred under the local authority's safeguarding duty.",
            )
        else:
            consents.consent_record(
                actor=actor, case=case, scope=scope, method=method, language=language
            )
    for body, visibility in spec["notes"]:
        services.note_add(actor=actor, case=case, body=body, visibility=visibility)
    for kind, note in spec["flags"]:
        services.flag_raise(actor=actor, case=case, kind=kind, note=note)
    if spec["status"] == "active":
        services.case_activate(actor=actor, case=case)
    elif spec["status"] == "closed":
        services.case_close(
            actor=actor, case=case, reason="moved_on", note="Independent, legal work found."
        )
    return case


def seed(log: Any = print) -> None:
    harbour = Agency.objects.get(name="Harbour Trust")
    council = Agency.objects.get(name="Northshire Council Adult Social Care")
    with transaction.atomic():
        for agency, username, specs in (
            (harbour, "harbour.caseworker", HARBOUR_CASES),
            (council, "council.caseworker", COUNCIL_CASES),
        ):
            if Case.objects.filter(lead_agency=agency).exists():
                continue
            actor = User.objects.select_related("membership__agency").get(username=username)
            seeded = [_seed_case(actor, council, spec) for spec in specs]
            for case in seeded:
                log(f"  case {case.reference} at {agency.name} ({case.status})")
            if agency == council:
                _seed_break_glass(seeded[0], log)


def _seed_break_glass(case: Case, log: Any) -> None:
    """An overdue, unreviewed break-glass on a Council case: the Council has no
    case manager or agency admin, so the partnership manager reviews it; sign in as
    ``partnership.manager`` to see it on the home page and the task list."""
    officer = (
        User.objects.select_related("membership__agency")
        .filter(username="ljubljana.officer")
        .first()
    )
    if officer is None:
        return
    event = break_glass.break_glass_open(
        actor=officer,
        case=case,
        grounds=BreakGlassGrounds.SERIOUS_HARM,
        reason="Europol alert at 23:40: the suspected trafficker is back in Northshire; "
        "welfare check needed tonight.",
    )
    # Four days ago: its hour is long over, and its review is overdue.
    opened = timezone.now() - datetime.timedelta(days=4)
    ends = opened + datetime.timedelta(minutes=settings.BREAK_GLASS_MINUTES)
    BreakGlassEvent.objects.filter(pk=event.pk).update(opened_at=opened, expires_at=ends)
    CaseUserGrant.objects.filter(
        reason_type=ContentType.objects.get_for_model(BreakGlassEvent), reason_id=event.pk
    ).update(expires_at=ends)
    log(f"  break-glass on {case.reference}, to review by the partnership manager")
