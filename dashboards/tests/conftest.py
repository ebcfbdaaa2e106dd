"""Fixtures of the dashboard tests: the Northshire partnership of the root conftest, a
second partnership (Southshire) whose numbers must never show, the people who may or may
not open each dashboard, and the hand-countable dataset (``dataset.py``)."""

from __future__ import annotations

import pytest

from agencies.models import Agency, AgencyKind, Partnership, Role, User
from agencies.tests.factories import AgencyFactory, member
from dashboards.filters import Filters
from dashboards.scope import Scope

from . import dataset


@pytest.fixture
def south_charity(db: None) -> Agency:
    return AgencyFactory(name="Southshire Refuge", kind=AgencyKind.CHARITY, region="Southshire")


@pytest.fixture
def south_partnership(outside_police: Agency, south_charity: Agency) -> Partnership:
    p = Partnership.objects.create(name="Southshire Partnership", starts_on="2024-04-01")
    p.agencies.set([outside_police, south_charity])
    return p


@pytest.fixture
def south_manager(south_charity: Agency, south_partnership: Partnership) -> User:
    """The partnership manager of the other partnership."""
    return member(south_charity, Role.PARTNERSHIP_MANAGER, username="south-manager")


@pytest.fixture
def council_case_manager(council: Agency) -> User:
    return member(council, Role.CASE_MANAGER, username="council-case-manager")


@pytest.fixture
def northshire(partnership: Partnership) -> Scope:
    return Scope.of_partnership(partnership)


@pytest.fixture
def data(
    partnership: Partnership,
    south_partnership: Partnership,
    harbour: Agency,
    council: Agency,
    police: Agency,
    south_charity: Agency,
    outside_police: Agency,
    caseworker: User,
    other_agency_caseworker: User,
    police_officer: User,
    analyst: User,
) -> dataset.Dataset:
    south_user = member(south_charity, Role.CASEWORKER, username="south-caseworker")
    people = dataset.People(
        harbour=harbour,
        council=council,
        police=police,
        south=south_charity,
        south_police=outside_police,
        caseworker=caseworker,
        council_caseworker=other_agency_caseworker,
        officer=police_officer,
        analyst=analyst,
        south_user=south_user,
    )
    return dataset.build(people)


@pytest.fixture
def year() -> Filters:
    """The dataset's year, 2025, with no other filter."""
    return Filters(*dataset.PERIOD)
