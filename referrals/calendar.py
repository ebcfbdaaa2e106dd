"""Working days: weekends and the public holidays of an agency's country and, in the UK,
its nation (St Andrew's Day is a bank holiday in Scotland, 12 July in Northern Ireland).

Deadlines in the NRM and in referral response times count working days (DOMAIN.md); the
holidays come from the ``holidays`` package. Something received on a weekend or a holiday
is received on the next working day, and the count starts from there (Saturday
21 November 2026 is received on Monday 23, and five working days later is Monday 30).
"""

from __future__ import annotations

import datetime
import functools

import holidays
from django.utils import timezone

from .jurisdictions import holidays_subdivision


@functools.cache
def _calendar(country: str, subdivision: str, year: int) -> holidays.HolidayBase:
    try:
        return holidays.country_holidays(
            country, subdiv=holidays_subdivision(country, subdivision), years=year
        )
    except NotImplementedError:  # a country the package does not know: weekends only
        return holidays.HolidayBase()


def is_working_day(day: datetime.date, country: str, subdivision: str = "") -> bool:
    return day.weekday() < 5 and day not in _calendar(country, subdivision, day.year)


def received_on(day: datetime.date, country: str, subdivision: str = "") -> datetime.date:
    """The working day something arriving on ``day`` is received: that day, or the next
    working day after a weekend or holiday."""
    while not is_working_day(day, country, subdivision):
        day += datetime.timedelta(days=1)
    return day


def due_date(
    start: datetime.datetime, days: int, country: str, subdivision: str = ""
) -> datetime.date:
    """The date ``days`` working days after the day ``start`` is received (local time);
    due by the end of that day."""
    day = received_on(timezone.localtime(start).date(), country, subdivision)
    remaining = days
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if is_working_day(day, country, subdivision):
            remaining -= 1
    return day


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The last moment of ``day`` in the current time zone (a date's deadline)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))


def add_working_days(
    start: datetime.datetime, days: int, country: str, subdivision: str = ""
) -> datetime.datetime:
    """The same time of day, ``days`` working days after the day ``start`` is received
    (hours-scale response times of referrals)."""
    local = timezone.localtime(start)
    day = due_date(start, days, country, subdivision)
    return local.replace(year=day.year, month=day.month, day=day.day)


def working_days_between(
    start: datetime.date, end: datetime.date, country: str, subdivision: str = ""
) -> int:
    """Working days after ``start`` up to and including ``end`` (negative if end < start)."""
    if end < start:
        return -working_days_between(end, start, country, subdivision)
    count = 0
    day = start
    while day < end:
        day += datetime.timedelta(days=1)
        if is_working_day(day, country, subdivision):
            count += 1
    return count
