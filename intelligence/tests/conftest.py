"""Fixtures of the intelligence stories.

Northshire Police (``analyst``, ``police_officer``) writes most reports. Its partners
(root conftest: Harbour Trust, the Council, Crown Prosecution), the Labour Inspectorate
and Northshire Immigration Enforcement share the Northshire Partnership; the police own
the sharing group "Labour Exploitation Cell" (the police, the inspectorate and the
Regional Crime Unit, which is not in the partnership). Southshire Police is outside
everything.

The partner whose analyst reads the police's reports is the immigration service, not the
Council: analysts exist only in agencies that do intelligence work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from agencies.models import Agency, AgencyKind, Partnership, Role, SharingGroup, User
from agencies.tests.factories import AgencyFactory, member
from intelligence import reports
from intelligence.models import IntelligenceReport, MatchingJob
from intelligence.tasks import match_report


@pytest.fixture
def inspectorate(partnership: Partnership) -> Agency:
    agency = AgencyFactory(name="Labour Inspectorate", kind=AgencyKind.LABOUR_INSPECTORATE)
    partnership.agencies.add(agency)
    return agency


@pytest.fixture
def crime_unit(db: None) -> Agency:
    return AgencyFactory(name="Regional Crime Unit", kind=AgencyKind.NATIONAL_AGENCY)


@pytest.fixture
def cell(police: Agency, inspectorate: Agency, crime_unit: Agency) -> SharingGroup:
    group = SharingGroup.objects.create(name="Labour Exploitation Cell", owner=police)
    group.members.set([police, inspectorate, crime_unit])
    return group


@pytest.fixture
def immigration(partnership: Partnership) -> Agency:
    """A partner of the police that does intelligence work too, outside their sharing
    group: where a partner's analyst works."""
    agency = AgencyFactory(name="Northshire Immigration Enforcement", kind=AgencyKind.IMMIGRATION)
    partnership.agencies.add(agency)
    return agency


@pytest.fixture
def immigration_analyst(immigration: Agency) -> User:
    return member(immigration, Role.ANALYST, username="immigration-analyst")


@pytest.fixture
def immigration_caseworker(immigration: Agency) -> User:
    """A colleague of ``immigration_analyst``: contributes intelligence, reads only their
    own."""
    return member(immigration, Role.CASEWORKER, username="immigration-caseworker")


@pytest.fixture
def inspector(inspectorate: Agency) -> User:
    return member(inspectorate, Role.OFFICER, username="inspector")


@pytest.fixture
def outside_analyst(outside_police: Agency) -> User:
    return member(outside_police, Role.ANALYST, username="outside-analyst")


@pytest.fixture
def other_caseworker(harbour: Agency) -> User:
    """A colleague of ``caseworker`` at Harbour Trust."""
    return member(harbour, Role.CASEWORKER, username="dora")


REPORT_DEFAULTS: dict[str, Any] = {
    "title": "Car wash workers sleeping on site",
    "summary": "Six workers appear to live at the car wash and hand over their wages.",
    "full_text": "Informant SECRET-SOURCE-42 says the manager takes passports.",
    "source_description": "Registered informant SECRET-SOURCE-42, met twice.",
    "source_evaluation": "2",
    "intelligence_assessment": "B",
    "handling_code": "P",
    "tlp": "AMBER",
    "distribution": "partnership",
    "exploitation_types": ["labour"],
    "area": "ne1",
}


@pytest.fixture
def matching_worker(db: None) -> Callable[[], int]:
    """What the Celery worker does after a submit's commit, run here: every matching job
    not done yet, oldest first, through the task itself. Returns how many matches were
    made. (In these tests the request's transaction never commits, so its on-commit
    publish never runs: matching happens when a test says the worker ran.)"""

    def run() -> int:
        made = 0
        for job_id in (
            MatchingJob.objects.filter(done_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        ):
            made += match_report(job_id)
        return made

    return run


@pytest.fixture
def make_report(
    partnership: Partnership, matching_worker: Callable[[], int]
) -> Callable[..., IntelligenceReport]:
    """Write a report through the services (submitted unless ``submit=False``); a
    submitted report is matched as the worker would match it after the commit."""

    def make(actor: User, *, submit: bool = True, **fields: Any) -> IntelligenceReport:
        report = reports.report_create(actor=actor, **{**REPORT_DEFAULTS, **fields})
        if submit:
            report = reports.report_submit(actor=actor, report=report)
            matching_worker()
        return report

    return make
