"""Whether the person on a case is a child now: the one rule, and its dates.

``Case.is_child`` is stored, because every rule about children (consent, the NRM,
dashboards) reads it in SQL, but it is derived here, never set directly:

1. age disputed → a child, until it is decided: the presumption of age (Modern Slavery Act
   2015 s.51: where there are reasonable grounds to believe that a person may be under
   18, they are treated as under 18 until their age is determined);
2. else a known date of birth → under 18 on today's date (the installation's time zone,
   ``TIME_ZONE``: agencies have no time zone of their own);
3. else what the caseworker recorded.

Pure functions of dates: no database, no personal data leaves them.
"""

from __future__ import annotations

import datetime
from typing import NamedTuple

from .models import ChildStatusBasis

ADULT_AGE = 18


def birthday_in(date_of_birth: datetime.date, year: int) -> datetime.date:
    """The anniversary of ``date_of_birth`` in ``year``. Someone born on 29 February has
    it on 1 March in a common year (the day after 28 February: in England and Wales a
    person attains an age at the start of the anniversary of their birth, Family Law
    Reform Act 1969 s.9, and a common year has no 29 February; ``dateutil``'s
    ``relativedelta`` would say 28 February)."""
    try:
        return date_of_birth.replace(year=year)
    except ValueError:  # 29 February in a common year
        return datetime.date(year, 3, 1)


def age_on(date_of_birth: datetime.date, day: datetime.date) -> int:
    """Whole years of age on ``day``: one more on each anniversary (``birthday_in``)."""
    years = day.year - date_of_birth.year
    return years if day >= birthday_in(date_of_birth, day.year) else years - 1


def adult_on(date_of_birth: datetime.date) -> datetime.date:
    """The day the person turns 18."""
    return birthday_in(date_of_birth, date_of_birth.year + ADULT_AGE)


class ChildStatus(NamedTuple):
    is_child: bool
    basis: str  # a ChildStatusBasis


def child_status(
    *,
    age_disputed: bool,
    date_of_birth: datetime.date | None,
    recorded: bool,
    today: datetime.date,
) -> ChildStatus:
    """Whether the person is a child on ``today``, and why (the module's rule).

    ``recorded`` is the caseworker's "under 18 now": it counts only when the age is not
    disputed and no date of birth is known; a tick that contradicts a known date of birth
    is ignored.
    """
    if age_disputed:
        return ChildStatus(True, ChildStatusBasis.AGE_DISPUTED)
    if date_of_birth is not None:
        return ChildStatus(today < adult_on(date_of_birth), ChildStatusBasis.DATE_OF_BIRTH)
    return ChildStatus(recorded, ChildStatusBasis.RECORDED)
