"""Working-day arithmetic across weekends and public holidays."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest

from referrals.calendar import add_working_days, is_working_day, working_days_between

LONDON = ZoneInfo("Europe/London")


def at(y: int, m: int, d: int, h: int = 10) -> datetime.datetime:
    return datetime.datetime(y, m, d, h, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (at(2026, 11, 16), 5, at(2026, 11, 23)),  # Monday + 5 = next Monday
        (at(2026, 11, 20), 1, at(2026, 11, 23)),  # Friday + 1 = Monday
        # Saturday is received on Monday; one working day later is Tuesday.
        (at(2026, 11, 21), 1, at(2026, 11, 24)),
        (
            at(2026, 12, 23),
            2,
            at(2026, 12, 29),
        ),  # over Christmas Day and Boxing Day (Mon 28 Dec substitute)
        (
            at(2026, 4, 2),
            1,
            at(2026, 4, 7),
        ),  # Thursday before Easter: Good Friday and Easter Monday skipped
        (at(2026, 8, 28), 1, at(2026, 9, 1)),  # Friday before the August bank holiday (Mon 31 Aug)
    ],
)
def test_add_working_days_in_england(start, days, expected):
    assert add_working_days(start, days, "GB") == expected


def test_holidays_follow_the_agencys_country():
    # 8 February is Prešeren Day in Slovenia, an ordinary Monday in England.
    monday = datetime.date(2027, 2, 8)
    assert not is_working_day(monday, "SI")
    assert is_working_day(monday, "GB")
    assert add_working_days(at(2027, 2, 5), 1, "SI") == at(2027, 2, 9)
    assert add_working_days(at(2027, 2, 5), 1, "GB") == at(2027, 2, 8)


def test_the_time_of_day_survives_a_clock_change():
    # British Summer Time ends on 25 October 2026: 10:00 stays 10:00 local.
    assert add_working_days(at(2026, 10, 23), 1, "GB") == at(2026, 10, 26)
    assert add_working_days(at(2026, 10, 23), 1, "GB").utcoffset() == datetime.timedelta(0)


def test_working_days_between():
    assert working_days_between(datetime.date(2026, 12, 24), datetime.date(2026, 12, 29), "GB") == 1
    assert (
        working_days_between(datetime.date(2026, 12, 29), datetime.date(2026, 12, 24), "GB") == -1
    )
