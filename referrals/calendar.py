"""Working days: weekends and the public holidays of an agency's country.

Deadlines in the NRM and in referral response times count working days (DOMAIN.md);
the holidays come from the ``holidays`` package, so a Slovenian partner's deadlines
skip Slovenian holidays, and England's skip England's.
"""

from __future__ import annotations

import datetime
import functools

import holidays
from django.utils import timezone

# Subdivisions whose public holidays differ from the country's default: UK bank holidays
# are set per nation; England's are the default here, as DOMAIN.md's rules are for
# England and Wales.
DEFAULT_SUBDIVISION = {"GB": "ENG"}


@functools.cache
def _calendar(country: str, year: int) -> holidays.HolidayBase:
    try:
        return holidays.country_holidays(
            country, subdiv=DEFAULT_SUBDIVISION.get(country), years=year
        )
    except NotImplementedError:  # a country the package does not know: weekends only
        return holidays.HolidayBase()


def is_working_day(day: datetime.date, country: str) -> bool:
    return day.weekday() < 5 and day not in _calendar(country, day.year)


def add_working_days(start: datetime.datetime, days: int, country: str) -> datetime.datetime:
    """The same time of day, ``days`` working days after ``start`` (local time).

    Starting on a weekend or holiday counts from the next working day, as a form sent on
    Saturday is first read on Monday.
    """
    local = timezone.localtime(start)
    day = local.date()
    remaining = days
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if is_working_day(day, country):
            remaining -= 1
    return local.replace(year=day.year, month=day.month, day=day.day)


def working_days_between(start: datetime.date, end: datetime.date, country: str) -> int:
    """Working days after ``start`` up to and including ``end`` (negative if end < start)."""
    if end < start:
        return -working_days_between(end, start, country)
    count = 0
    day = start
    while day < end:
        day += datetime.timedelta(days=1)
        if is_working_day(day, country):
            count += 1
    return count
