from __future__ import annotations

import datetime

import pytest

from agencies.models import User
from casework import services
from casework.models import Case


@pytest.fixture
def case(caseworker: User) -> Case:
    """A case opened by Harbour Trust's caseworker, with an identity."""
    return services.case_create(
        actor=caseworker,
        exploitation_types=["labour", "criminal"],
        risk_level="high",
        nationality="AL",
        region="Northshire",
        identity={
            "given_name": "Ana",
            "family_name": "Hoxha",
            "date_of_birth": datetime.date(1998, 3, 4),
        },
    )


@pytest.fixture
def child_case(caseworker: User) -> Case:
    return services.case_create(
        actor=caseworker, is_child=True, exploitation_types=["criminal"], county_lines=True
    )
