from __future__ import annotations

import pytest

from agencies.models import Agency, Partnership, Role, User
from agencies.tests.factories import member
from casework import services as casework
from casework.models import Case


@pytest.fixture(autouse=True)
def _in_partnership(partnership: Partnership) -> Partnership:
    """Referrals travel only inside a partnership in force: in every story here
    Harbour Trust, the Council, Northshire Police and the prosecutors share one. Stories of
    the boundary use Southshire Police (outside it) or end the agreement."""
    return partnership


@pytest.fixture
def case(caseworker: User) -> Case:
    return casework.case_create(
        actor=caseworker, exploitation_types=["labour"], identity={"given_name": "Ana"}
    )


@pytest.fixture
def council_manager(council: Agency) -> User:
    return member(council, Role.CASE_MANAGER, username="council-manager")
