"""Demo intelligence: graded reports from the police, Harbour Trust and the Labour
Inspectorate at every distribution and TLP colour, two with handling conditions, one
match between two agencies on a phone number, and Operation Lather's visits to car
washes and farms. Names, numbers and places are invented; the phone numbers are valid
in form (``phonenumbers`` accepts them) but are not Ofcom's drama range, which it
refuses.

Idempotent: once the first demo report exists, nothing is added.

Try: ``north.analyst`` (the match inbox; Harbour's conditioned report to acknowledge),
``labour.officer`` (Operation Lather's visits; a report from a visit), ``harbour.caseworker``
(a case from a visit).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, SharingGroup, User

from . import operations, reports
from .models import IntelligenceReport

# One number in two agencies' reports: the police report is for the police alone, so
# the inspectorate's later report on it makes the demo's one match (the police are told).
SHARED_PHONE = "+44 7400 123456"
OPERATION = "Operation Lather"
SHARING_GROUP = "Northshire Labour Exploitation Cell"


def _user(username: str) -> User | None:
    return User.objects.select_related("membership__agency").filter(username=username).first()


def _days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


REPORTS: list[tuple[str, dict[str, Any]]] = [
    (
        "north.analyst",
        {
            "title": "Hand car wash network recruiting through social media",
            "summary": (
                "Adverts offering car wash work with accommodation lead to three sites in "
                "NE1 and NE6. Workers are collected by minibus before 07:00 and returned "
                "after 21:00."
            ),
            "full_text": (
                "Source reports the adverts are posted by the same account that manages "
                "the minibus rota. Subscriber checks pending."
            ),
            "source_description": "Open-source research by the force intelligence bureau.",
            "source_evaluation": "1",
            "intelligence_assessment": "B",
            "handling_code": "P",
            "tlp": "AMBER",
            "distribution": "partnership",
            "exploitation_types": ["labour"],
            "area": "NE1",
            "entities": [{"kind": "business", "value": "Sparkle Hand Car Wash"}],
        },
    ),
    (
        "north.analyst",
        {
            "title": "Phone used to arrange the transport of workers",
            "summary": "A mobile number used to arrange daily transport of workers to sites.",
            "full_text": (
                "Covert source DEMO-CHIS-7 provided the number. The subscriber is not yet "
                "identified."
            ),
            "source_description": "Covert human intelligence source DEMO-CHIS-7.",
            "source_evaluation": "2",
            "intelligence_assessment": "B",
            "handling_code": "C",
            "handling_conditions": (
                "Do not contact the number or its subscriber. Speak to the force "
                "intelligence desk before any action."
            ),
            "tlp": "AMBER+STRICT",
            "distribution": "agency",
            "exploitation_types": ["labour"],
            "area": "Northshire",
            "entities": [{"kind": "phone", "value": SHARED_PHONE}],
        },
    ),
    (
        "north.officer",
        {
            "title": "Farm labour provider housing workers in caravans",
            "summary": (
                "Around twenty workers live in caravans on a farm near NE61 and are "
                "driven to packing houses. Rent is taken from wages."
            ),
            "full_text": "Seen during a rural crime patrol; the farm manager was evasive.",
            "source_description": "Officer's own observation.",
            "source_evaluation": "2",
            "intelligence_assessment": "C",
            "handling_code": "P",
            "tlp": "RED",
            "tlp_recipients": ["Labour Inspectorate"],
            "distribution": "sharing_group",
            "sharing_group": SHARING_GROUP,
            "exploitation_types": ["labour"],
            "area": "NE61",
            "entities": [{"kind": "vehicle", "value": "NX19 KLM"}],
        },
    ),
    (
        "north.analyst",
        {
            "title": "Nail bars paying staff in cash only",
            "summary": (
                "Several nail bars across Northshire pay staff in cash and list no "
                "employees for tax. Staff are rarely seen to leave."
            ),
            "full_text": "Pattern drawn from partner referrals and HMRC open data.",
            "source_description": "Analytical product.",
            "source_evaluation": "3",
            "intelligence_assessment": "D",
            "handling_code": "P",
            "tlp": "GREEN",
            "distribution": "all",
            "exploitation_types": ["labour", "criminal"],
            "area": "Northshire",
        },
    ),
    (
        "harbour.caseworker",
        {
            "title": "Trend: adverts promising hotel jobs in the UK",
            "summary": (
                "People supported this year describe the same advert: hotel work, flights "
                "paid, a debt repaid from wages on arrival."
            ),
            "full_text": "From four support plans; no names recorded here.",
            "source_description": "Harbour Trust casework, aggregated.",
            "source_evaluation": "2",
            "intelligence_assessment": "C",
            "handling_code": "P",
            "tlp": "CLEAR",
            "distribution": "all",
            "exploitation_types": ["labour", "sexual"],
            "area": "Northshire",
        },
    ),
    (
        "harbour.caseworker",
        {
            "title": "Outreach: car wash workers say their wages go to a 'boss'",
            "summary": (
                "During outreach, two workers at a car wash in NE6 said their wages are "
                "paid to a man they call the boss, who holds their passports."
            ),
            "full_text": "Outreach worker spoke to the workers in Romanian, away from the site.",
            "source_description": "Harbour Trust outreach team.",
            "source_evaluation": "2",
            "intelligence_assessment": "B",
            "handling_code": "C",
            "handling_conditions": (
                "Do not tell the employer or the workers that a charity was the source. "
                "Contact Harbour Trust's safeguarding lead before any visit, so the workers "
                "can be offered support first."
            ),
            "tlp": "AMBER",
            "distribution": "partnership",
            "exploitation_types": ["labour"],
            "area": "NE6",
            "entities": [{"kind": "business", "value": "Bright Shine Car Valeting"}],
        },
    ),
    (
        "labour.officer",
        {
            "title": "Unlicensed gangmaster supplying farm workers",
            "summary": (
                "A labour provider without a licence supplies workers to farms near NE65. "
                "Workers are told to give this number if asked who employs them."
            ),
            "full_text": "Found on a worker's phone during the inspection, with consent.",
            "source_description": "Labour Inspectorate inspection team.",
            "source_evaluation": "1",
            "intelligence_assessment": "A",
            "handling_code": "P",
            "tlp": "AMBER",
            "distribution": "partnership",
            "exploitation_types": ["labour"],
            "area": "NE65",
            "entities": [
                {"kind": "phone", "value": "07400 123456"},
                {"kind": "vehicle", "value": "YK21 ZPT"},
            ],
        },
    ),
    (
        "labour.officer",
        {
            "title": "Packing house payslips show unlawful deductions",
            "summary": "Payslips from a packing house show deductions for transport and housing.",
            "full_text": "Copies kept on the inspection file.",
            "source_description": "Documents seen during inspection.",
            "source_evaluation": "1",
            "intelligence_assessment": "A",
            "handling_code": "P",
            "tlp": "GREEN",
            "distribution": "sharing_group",
            "sharing_group": SHARING_GROUP,
            "exploitation_types": ["labour"],
            "area": "NE61",
        },
    ),
]

VISITS: list[tuple[str, dict[str, Any]]] = [
    (
        "north.officer",
        {
            "premises_type": "car_wash",
            "postcode_district": "NE1",
            "days_ago": 40,
            "workers_present": 6,
            "indicators": ["living_on_site", "no_identity_documents", "fear_of_authorities"],
            "outcome": "potential_victims",
            "notes": "Workers sleep in a room behind the office. Two agreed to speak to Harbour.",
        },
    ),
    (
        "labour.officer",
        {
            "premises_type": "car_wash",
            "postcode_district": "NE6",
            "days_ago": 25,
            "workers_present": 4,
            "indicators": ["low_or_no_pay", "excessive_hours", "third_party_control"],
            "outcome": "labour_abuse",
            "notes": "No payslips. A man arrived during the visit and answered for the workers.",
        },
    ),
    (
        "labour.officer",
        {
            "premises_type": "farm",
            "postcode_district": "NE65",
            "days_ago": 12,
            "workers_present": 18,
            "indicators": ["debt_bondage", "living_on_site", "unsafe_conditions"],
            "outcome": "intelligence_submitted",
            "notes": "Caravans without heating. Workers owe the provider for their travel.",
            "report": "Unlicensed gangmaster supplying farm workers",
        },
    ),
    (
        "north.officer",
        {
            "premises_type": "farm",
            "postcode_district": "NE61",
            "days_ago": 5,
            "workers_present": 0,
            "indicators": [],
            "outcome": "no_concerns",
            "notes": "Seasonal pickers had left; accommodation empty and clean.",
        },
    ),
]


def _report_fields(spec: dict[str, Any]) -> dict[str, Any]:
    fields = dict(spec)
    if "sharing_group" in fields:
        fields["sharing_group"] = SharingGroup.objects.get(name=fields["sharing_group"])
    if "tlp_recipients" in fields:
        fields["tlp_recipients"] = list(Agency.objects.filter(name__in=fields["tlp_recipients"]))
    return fields


def seed(log: Any = print) -> None:
    if IntelligenceReport.objects.filter(title=REPORTS[0][1]["title"]).exists():
        return
    users = {name: _user(name) for name, _spec in [*REPORTS, *VISITS]}
    missing = sorted(name for name, user in users.items() if user is None)
    if missing or not SharingGroup.objects.filter(name=SHARING_GROUP).exists():
        log(f"  intelligence skipped: the demo users {missing} or the sharing group are missing")
        return
    with transaction.atomic():
        made: dict[str, IntelligenceReport] = {}
        for username, spec in REPORTS:
            actor = users[username]
            assert actor is not None
            report = reports.report_create(actor=actor, **_report_fields(spec))
            made[report.title] = reports.report_submit(actor=actor, report=report)
            log(f"  report “{report.title}” ({report.grading}, TLP:{report.tlp})")

        analyst = users["north.analyst"]
        assert analyst is not None
        operation = operations.operation_create(
            actor=analyst,
            name=OPERATION,
            starts_on=_days_ago(60),
            partner_agencies=Agency.objects.filter(
                name__in=["Labour Inspectorate", "Harbour Trust"]
            ),
        )
        log(f"  operation {operation.name}")
        for username, spec in VISITS:
            actor = users[username]
            assert actor is not None
            visit = operations.visit_record(
                actor=actor,
                operation=operation,
                premises_type=spec["premises_type"],
                postcode_district=spec["postcode_district"],
                visited_on=_days_ago(spec["days_ago"]),
                workers_present=spec["workers_present"],
                indicators=spec["indicators"],
                outcome=spec["outcome"],
                notes=spec["notes"],
            )
            if "report" in spec:
                operations.visit_link(actor=actor, visit=visit, report=made[spec["report"]])
            log(f"  visit {visit}")
