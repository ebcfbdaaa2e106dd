"""The dashboard's fixture dataset: a small partnership year (2025) written row by row
with the ORM (services cannot backdate), so every expected number in the tests can be
counted by hand from this file.

Northshire Partnership: Harbour Trust (charity, H), Northshire Council (social services,
C), Northshire Police (P), Crown Prosecution. Southshire Refuge (S) is in another
partnership; its records must never count. Times are Europe/London; the period in the
tests is 2025-01-01 to 2025-12-31.

Cases (opened, closed, types, county lines, child, risk, nationality, region):

    c1  H 2025-01-10  closed 2025-03-05  labour              -   adult standard  AL Northshire
    c2  H 2025-01-20                     labour, sexual      -   adult high      AL Northshire
    c3  H 2025-02-03  closed 2025-02-28  sexual              -   adult medium    VN Northshire
    c4  H 2025-02-14                     criminal            CL  child high      GB Northshire
    c5  H 2025-03-01                     criminal            CL  child immediate GB Eastshire
    c6  H 2025-03-15  closed 2025-07-01 00:30 BST (June in UTC)
                                         domestic servitude  -   adult standard  RO Northshire
    c7  C 2025-03-20                     labour              -   adult standard  RO Eastshire
    c8  C 2025-04-02                     (none)              -   adult standard  -- Northshire
    c9  C 2025-04-18  closed 2025-05-20  unknown             -   child medium    VN Northshire
    c10 C 2025-06-07                     labour, criminal    CL  adult high      AL Northshire
    c11 H 2025-07-01 00:30 BST (June in UTC)
                                         labour              -   adult standard  PL Northshire
    c12 C 2025-12-31 23:30               sexual              -   adult medium    AL northshire
    c13 H 2024-12-15  closed 2025-01-15  labour (opened before the period)
    c14 C 2026-01-05                     labour (after the period)
    c15 H 2024-12-31 23:59               sexual (one minute before the period)
    c16 S 2025-05-01                     labour (another partnership)
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from agencies.models import Agency, User
from casework.models import (
    DEFAULT_URGENCY,
    Case,
    CaseNote,
    CaseStatus,
    EvidenceAccessRequest,
    JusticeOutcome,
    Need,
    NeedStatusChange,
    VictimIdentity,
)
from intelligence.models import IntelligenceReport, PremisesVisit
from referrals.models import NRMReferral, Referral

PERIOD = (datetime.date(2025, 1, 1), datetime.date(2025, 12, 31))

# Text that must never appear in a dashboard: names, references, free text.
SECRETS = (
    "Hoxha",
    "TEST-C",
    "She is afraid of the gang",
    "Needs a safe bed tonight",
    "Decline: no beds",
    "Operation Bramble",
    "Informant says",
    "Farm near the river",
    "NE99",
)


def at(*parts: int) -> datetime.datetime:
    """A local (Europe/London) time: at(2025, 1, 10, 10) is 10:00 on 10 January 2025."""
    return timezone.make_aware(datetime.datetime(*parts))


@dataclass
class People:
    harbour: Agency
    council: Agency
    police: Agency
    south: Agency
    south_police: Agency
    caseworker: User  # Harbour Trust
    council_caseworker: User
    officer: User  # Northshire Police
    analyst: User  # Northshire Police
    south_user: User


@dataclass
class Dataset:
    people: People
    cases: dict[str, Case] = field(default_factory=dict)
    reports: dict[str, IntelligenceReport] = field(default_factory=dict)


CASES: dict[str, dict[str, Any]] = {
    "c1": dict(lead="harbour", opened=at(2025, 1, 10, 10), closed=at(2025, 3, 5, 12),
               types=["labour"], risk="standard", nat="AL", region="Northshire"),
    "c2": dict(lead="harbour", opened=at(2025, 1, 20, 9), types=["labour", "sexual"],
               risk="high", nat="AL", region="Northshire"),
    "c3": dict(lead="harbour", opened=at(2025, 2, 3, 14), closed=at(2025, 2, 28, 16),
               types=["sexual"], risk="medium", nat="VN", region="Northshire"),
    "c4": dict(lead="harbour", opened=at(2025, 2, 14, 11), types=["criminal"], cl=True,
               child=True, risk="high", nat="GB", region="Northshire"),
    "c5": dict(lead="harbour", opened=at(2025, 3, 1, 8), types=["criminal"], cl=True,
               child=True, risk="immediate", nat="GB", region="Eastshire"),
    "c6": dict(lead="harbour", opened=at(2025, 3, 15, 15), closed=at(2025, 7, 1, 0, 30),
               types=["domestic_servitude"], risk="standard", nat="RO", region="Northshire"),
    "c7": dict(lead="council", opened=at(2025, 3, 20, 10), types=["labour"],
               risk="standard", nat="RO", region="Eastshire"),
    "c8": dict(lead="council", opened=at(2025, 4, 2, 10), types=[], risk="standard",
               nat="", region="Northshire"),
    "c9": dict(lead="council", opened=at(2025, 4, 18, 10), closed=at(2025, 5, 20, 10),
               types=["unknown"], child=True, risk="medium", nat="VN", region="Northshire"),
    "c10": dict(lead="council", opened=at(2025, 6, 7, 10), types=["criminal", "labour"],
                cl=True, risk="high", nat="AL", region="Northshire"),
    "c11": dict(lead="harbour", opened=at(2025, 7, 1, 0, 30), types=["labour"],
                risk="standard", nat="PL", region="Northshire"),
    "c12": dict(lead="council", opened=at(2025, 12, 31, 23, 30), types=["sexual"],
                risk="medium", nat="AL", region="northshire"),
    "c13": dict(lead="harbour", opened=at(2024, 12, 15, 10), closed=at(2025, 1, 15, 10),
                types=["labour"], risk="standard", nat="AL", region="Northshire"),
    "c14": dict(lead="council", opened=at(2026, 1, 5, 10), types=["labour"],
                risk="standard", nat="AL", region="Northshire"),
    "c15": dict(lead="harbour", opened=at(2024, 12, 31, 23, 59), types=["sexual"],
                risk="standard", nat="AL", region="Northshire"),
    "c16": dict(lead="south", opened=at(2025, 5, 1, 10), types=["labour"],
                risk="standard", nat="AL", region="Southshire"),
}  # fmt: skip


def build(people: People) -> Dataset:
    data = Dataset(people)
    _cases(data)
    _needs(data)
    _referrals(data)
    _nrm(data)
    _evidence(data)
    _justice(data)
    _intelligence(data)
    return data


def _cases(data: Dataset) -> None:
    p = data.people
    for key, spec in CASES.items():
        data.cases[key] = Case.objects.create(
            reference=f"TEST-{key.upper()}",
            lead_agency=getattr(p, spec["lead"]),
            status=CaseStatus.CLOSED if spec.get("closed") else CaseStatus.ACTIVE,
            opened_at=spec["opened"],
            closed_at=spec.get("closed"),
            closure_reason="support_complete" if spec.get("closed") else "",
            exploitation_types=sorted(spec["types"]),
            county_lines=spec.get("cl", False),
            is_child=spec.get("child", False),
            risk_level=spec["risk"],
            nationality=spec["nat"],
            region=spec["region"],
        )
    c1 = data.cases["c1"]
    VictimIdentity.objects.create(case=c1, given_name="Ana", family_name="Hoxha")
    CaseNote.objects.create(
        case=c1, author=p.caseworker, agency=p.harbour, body="She is afraid of the gang"
    )


def _need(
    data: Dataset,
    case: str,
    category: str,
    status: str,
    target: datetime.date | None,
    created: datetime.datetime,
    changes: tuple[tuple[str, datetime.datetime], ...] = (),
) -> None:
    """A need with its status history: recorded as identified, then each change."""
    p = data.people
    need = Need.objects.create(
        case=data.cases[case],
        category=category,
        urgency=DEFAULT_URGENCY[category],
        status=status,
        owner_agency=data.cases[case].lead_agency,
        target_date=target,
        created_by=p.caseworker,
        created_at=created,
        note="Needs a safe bed tonight",
    )
    previous = "identified"
    NeedStatusChange.objects.create(
        need=need, from_status="", to_status=previous, changed_by=p.caseworker, changed_at=created
    )
    for to_status, when in changes:
        NeedStatusChange.objects.create(
            need=need,
            from_status=previous,
            to_status=to_status,
            changed_by=p.caseworker,
            changed_at=when,
        )
        previous = to_status


def _needs(data: Dataset) -> None:
    d = datetime.date
    soon = timezone.localdate() + datetime.timedelta(days=30)
    # fmt: off
    rows = [
        # case, category, status now, target, recorded, status changes after "identified"
        # n1 met on time; n2 met late; n3 in progress past its target; n4 no target.
        ("c1", "safe_accommodation", "met", d(2025, 1, 15), at(2025, 1, 10, 11),
         (("met", at(2025, 1, 12, 9)),)),
        ("c1", "healthcare", "met", d(2025, 1, 20), at(2025, 1, 10, 11),
         (("met", at(2025, 1, 25, 9)),)),
        ("c2", "safe_accommodation", "in_progress", d(2025, 2, 1), at(2025, 1, 20, 10),
         (("in_progress", at(2025, 1, 21, 9)),)),
        ("c2", "legal_immigration", "identified", None, at(2025, 1, 21, 10), ()),
        # n5: met before its target, reopened, met again after it: last met late.
        ("c4", "safe_accommodation", "met", d(2025, 2, 20), at(2025, 2, 14, 12),
         (("met", at(2025, 2, 18, 9)), ("in_progress", at(2025, 2, 19, 9)),
          ("met", at(2025, 2, 25, 9)))),
        # n6 declined (never due); n7 could not be met (due, not met).
        ("c7", "interpretation", "declined", d(2025, 3, 25), at(2025, 3, 20, 11),
         (("declined", at(2025, 3, 22, 9)),)),
        ("c7", "financial_support", "unmet", d(2025, 4, 1), at(2025, 3, 20, 11),
         (("unmet", at(2025, 4, 2, 9)),)),
        # n8: met at 00:30 on 1 July in London (30 June in UTC): late for a 30 June target.
        ("c10", "healthcare", "met", d(2025, 6, 30), at(2025, 6, 7, 11),
         (("met", at(2025, 7, 1, 0, 30)),)),
        # n9 met on time.
        ("c11", "safe_accommodation", "met", d(2025, 7, 10), at(2025, 7, 1, 8),
         (("met", at(2025, 7, 5, 9)),)),
        # n10: target in the future, in progress: not due yet.
        ("c12", "psychological_support", "in_progress", soon, at(2025, 12, 31, 23, 45),
         (("in_progress", at(2025, 12, 31, 23, 50)),)),
        # n11: on a case opened in 2024, recorded in 2025, met on time.
        ("c13", "healthcare", "met", d(2025, 1, 10), at(2025, 1, 5, 10),
         (("met", at(2025, 1, 8, 10)),)),
        # n14: met, no target date (never due).
        ("c3", "practical_help", "met", None, at(2025, 2, 3, 15),
         (("met", at(2025, 2, 10, 10)),)),
        # Outside the period, or outside the partnership: never count.
        ("c13", "safe_accommodation", "identified", None, at(2024, 12, 20, 10), ()),
        ("c14", "healthcare", "identified", None, at(2026, 1, 6, 10), ()),
        ("c16", "healthcare", "met", d(2025, 5, 5), at(2025, 5, 2, 10),
         (("met", at(2025, 5, 3, 10)),)),
    ]
    # fmt: on
    for row in rows:
        _need(data, *row)


def _referrals(data: Dataset) -> None:
    soon = timezone.now() + datetime.timedelta(days=2)
    # fmt: off
    rows = [
        # case, kind, status, sent, respond by, answered, to
        ("c1", "accommodation", "accepted", at(2025, 1, 11, 10), at(2025, 1, 18, 10),
         at(2025, 1, 12, 10), "council"),  # 24 h, in time
        ("c1", "health", "declined", at(2025, 1, 11, 10), at(2025, 1, 12, 10),
         at(2025, 1, 13, 10), "council"),  # 48 h, late
        ("c2", "accommodation", "completed", at(2025, 1, 21, 9), at(2025, 1, 21, 13),
         at(2025, 1, 21, 11), "council"),  # 2 h, in time
        ("c2", "legal_advice", "expired", at(2025, 1, 22, 10), at(2025, 1, 29, 10),
         None, "council"),
        ("c4", "accommodation", "accepted", at(2025, 2, 15, 10), at(2025, 2, 22, 10),
         at(2025, 2, 15, 16), "council"),  # 6 h, in time
        ("c7", "police_crime_report", "withdrawn", at(2025, 3, 21, 10), at(2025, 3, 28, 10),
         None, "police"),
        ("c10", "police_crime_report", "sent", at(2025, 6, 8, 10), at(2025, 6, 15, 10),
         None, "police"),  # still waiting: overdue now
        ("c12", "casework_support", "accepted", at(2025, 12, 31, 23, 40),
         at(2026, 1, 7, 23, 40), at(2026, 1, 3, 23, 40), "harbour"),  # 72 h, in time
        ("c5", "health", "declined", at(2025, 3, 2, 10), at(2025, 3, 3, 10),
         at(2025, 3, 2, 12), "council"),  # 2 h, in time
        # Outside the period: c13's is overdue now (it counts there), c14's not yet due.
        ("c13", "accommodation", "sent", at(2024, 12, 20, 10), at(2024, 12, 27, 10),
         None, "council"),
        ("c14", "accommodation", "sent", at(2026, 1, 6, 10), soon, None, "council"),
        # Another partnership's: never counts.
        ("c16", "accommodation", "sent", at(2025, 5, 2, 10), at(2025, 5, 9, 10),
         None, "south"),
    ]
    # fmt: on
    for row in rows:
        _referral(data, *row)


def _referral(
    data: Dataset,
    case: str,
    kind: str,
    status: str,
    sent: datetime.datetime,
    respond_by: datetime.datetime,
    answered: datetime.datetime | None = None,
    to: str = "council",
) -> None:
    p = data.people
    c = data.cases[case]
    Referral.objects.create(
        case=c,
        from_agency=c.lead_agency,
        to_agency=getattr(p, to),
        kind=kind,
        reason="Needs a safe bed tonight",
        status=status,
        sent_by=p.caseworker,
        sent_at=sent,
        respond_by=respond_by,
        answered_by=p.council_caseworker if answered else None,
        answered_at=answered,
        decline_reason="Decline: no beds" if status == "declined" else "",
    )


def _nrm(data: Dataset) -> None:
    p = data.people
    d = datetime.date
    rows = [
        # case, submitted, RG, RG on, CG, CG on
        ("c1", at(2025, 1, 12, 10), "positive", d(2025, 1, 17), "positive", d(2025, 4, 1)),
        ("c2", at(2025, 1, 22, 10), "positive", d(2025, 2, 5), "pending", None),
        ("c4", at(2025, 2, 15, 10), "positive", d(2025, 2, 18), "negative", d(2025, 6, 1)),
        ("c5", at(2025, 3, 2, 10), "negative", d(2025, 3, 12), "pending", None),
        ("c9", at(2025, 4, 19, 10), "pending", None, "pending", None),
        # 00:30 on 1 July in London (30 June in UTC): 7 days to 8 July, not 8.
        ("c10", at(2025, 7, 1, 0, 30), "positive", d(2025, 7, 8), "pending", None),
        # Before the period, both still in a recovery period now (one person, two referrals).
        ("c13", at(2024, 12, 20, 10), "positive", d(2024, 12, 27), "pending", None),
        ("c13", at(2024, 12, 28, 10), "positive", d(2025, 1, 3), "pending", None),
        ("c16", at(2025, 5, 2, 10), "positive", d(2025, 5, 9), "pending", None),
    ]
    for case, submitted, rg, rg_on, cg, cg_on in rows:
        NRMReferral.objects.create(
            case=data.cases[case],
            agency=data.cases[case].lead_agency,
            submitted_by=p.caseworker,
            submitted_at=submitted,
            rg_decision=rg,
            rg_decided_on=rg_on,
            cg_decision=cg,
            cg_decided_on=cg_on,
        )


def _evidence(data: Dataset) -> None:
    p = data.people
    rows = [
        # case, status, requested, decided (days to decide)
        ("c1", "approved", at(2025, 1, 15, 10), at(2025, 1, 17, 10)),  # 2
        ("c2", "partly_approved", at(2025, 1, 25, 10), at(2025, 1, 26, 10)),  # 1
        ("c4", "declined", at(2025, 2, 20, 10), at(2025, 2, 25, 10)),  # 5
        ("c5", "expired", at(2025, 3, 5, 10), at(2025, 3, 8, 10)),  # 3
        ("c7", "revoked", at(2025, 3, 25, 10), at(2025, 3, 29, 10)),  # 4
        ("c10", "pending", at(2025, 6, 10, 10), None),
        ("c10", "withdrawn", at(2025, 6, 11, 10), None),
        ("c13", "approved", at(2024, 12, 20, 10), at(2024, 12, 21, 10)),
        ("c16", "approved", at(2025, 5, 5, 10), at(2025, 5, 6, 10)),
    ]
    for case, status, requested, decided in rows:
        EvidenceAccessRequest.objects.create(
            case=data.cases[case],
            requested_by=p.officer,
            agency=p.police,
            purpose="Operation Bramble",
            legal_basis="Informant says",
            status=status,
            requested_at=requested,
            decided_at=decided,
        )


def _justice(data: Dataset) -> None:
    p = data.people
    d = datetime.date
    rows = [
        # case, crime recorded, file to prosecutors, charged, court outcome
        ("c1", True, d(2025, 3, 1), d(2025, 4, 1), "convicted"),
        ("c1", True, None, None, "pending"),  # a second outcome: c1 still counts once
        ("c2", True, d(2025, 5, 1), None, "pending"),
        ("c4", True, None, None, "pending"),
        ("c5", False, None, None, "pending"),
        ("c10", True, d(2025, 8, 1), d(2025, 9, 1), "acquitted"),
        ("c13", True, d(2025, 2, 1), d(2025, 3, 1), "convicted"),  # opened in 2024
        ("c16", True, d(2025, 6, 1), d(2025, 7, 1), "convicted"),  # another partnership
    ]
    for case, crime, filed, charged, court in rows:
        JusticeOutcome.objects.create(
            case=data.cases[case],
            recorded_by_agency=p.police,
            crime_recorded=crime,
            crime_reference="Operation Bramble",
            referred_to_prosecutor_on=filed,
            charged_on=charged,
            court_outcome=court,
            offences="Informant says",
            recorded_at=at(2025, 9, 1, 10),
        )


def _intelligence(data: Dataset) -> None:
    p = data.people
    rows = [
        # key, agency, submitted, source, assessment, area, types
        ("i1", p.police, at(2025, 2, 1, 10), "1", "A", "Northshire", ["labour"]),
        ("i2", p.police, at(2025, 3, 1, 10), "2", "B", "Eastshire", ["sexual"]),
        ("i3", p.police, at(2025, 4, 1, 10), "2", "B", "Northshire", ["labour"]),
        ("i4", p.harbour, at(2025, 5, 1, 10), "3", "C", "Northshire", []),
        ("i5", p.harbour, None, "1", "A", "Northshire", ["labour"]),  # a draft
        ("i6", p.council, at(2025, 6, 1, 10), "1", "A", "", ["labour"]),
        ("i7", p.police, at(2024, 12, 1, 10), "1", "A", "Northshire", ["labour"]),
        ("i8", p.south_police, at(2025, 5, 1, 10), "1", "A", "Southshire", ["labour"]),
    ]
    for key, agency, submitted, source, assessment, area, types in rows:
        data.reports[key] = IntelligenceReport.objects.create(
            originating_agency=agency,
            author=p.analyst,
            title="Operation Bramble",
            summary="Farm near the river",
            full_text="Informant says",
            source_evaluation=source,
            intelligence_assessment=assessment,
            handling_code="P",
            tlp="AMBER",
            distribution="partnership",
            area=area,
            exploitation_types=types,
            status="submitted" if submitted else "draft",
            submitted_at=submitted,
            review_on=datetime.date(2026, 6, 1),
        )
    d = datetime.date
    visits = [
        # agency, premises, visited on, outcome, case, report
        (p.police, "farm", d(2025, 2, 10), "labour_abuse", "c1", None),
        (p.police, "farm", d(2025, 3, 10), "no_concerns", None, "i1"),
        (p.police, "car_wash", d(2025, 4, 10), "potential_victims", "c7", None),
        (p.harbour, "car_wash", d(2025, 5, 10), "no_concerns", None, None),
        (p.council, "nail_bar", d(2025, 6, 10), "intelligence_submitted", "c12", None),
        (p.police, "farm", d(2024, 12, 10), "labour_abuse", None, None),
        (p.south_police, "farm", d(2025, 5, 10), "labour_abuse", None, None),
    ]
    for agency, premises, visited, outcome, case, report in visits:
        PremisesVisit.objects.create(
            agency=agency,
            premises_type=premises,
            postcode_district="NE99",
            visited_on=visited,
            outcome=outcome,
            notes="Farm near the river",
            recorded_by=p.officer,
            case=data.cases[case] if case else None,
            report=data.reports[report] if report else None,
        )
