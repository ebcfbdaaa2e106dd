"""The dashboard's filters: ``from``, ``to``, ``agency``, ``region``, ``exploitation_type``.

Pages and the API read the same query parameters through ``DashboardFilterForm``; an
invalid value is a field error (a form error on the page, a 400 from the API), never a
500. Without dates a dashboard covers the last twelve calendar months, this one included.

How each measure applies them (``measures`` documents the details):

- dates: the measure's own date, in the partnership's time zone, both ends included:
  cases opened (closed, for closures), need recorded, referral sent, NRM referral
  submitted, evidence request made, intelligence report submitted, premises visit made.
  The justice funnel follows the cases opened in the period. Counts of "now" (referrals
  past their deadline, people in a recovery period) ignore the dates.
- agency: the agency that leads the case; for intelligence, the originating agency; for
  a premises visit, the agency that made it. It must be one of the dashboard's agencies.
- region: the case's region (as recorded, ignoring case); for intelligence, the report's
  area; for a premises visit, its case's region, or its report's area without a case.
- exploitation type: one of the case's types; for intelligence, one of the report's;
  for a premises visit, its case's, or its report's without a case.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.models import ExploitationType

from .scope import Scope

DATE_FORMAT = "%Y-%m-%d"
# Dates a dashboard accepts, and the longest period (one row per month in the tables).
EARLIEST = datetime.date(2000, 1, 1)
LATEST = datetime.date(2100, 12, 31)
LONGEST_PERIOD_YEARS = 10


@dataclass(frozen=True)
class Filters:
    """Validated filters. ``None``/empty means "not filtered" (all dates, all agencies)."""

    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    agency_id: int | None = None
    region: str = ""
    exploitation_type: str = ""

    @property
    def starts_at(self) -> datetime.datetime | None:
        """The first instant of ``date_from`` in the current time zone."""
        if self.date_from is None:
            return None
        return timezone.make_aware(datetime.datetime.combine(self.date_from, datetime.time.min))

    @property
    def ends_before(self) -> datetime.datetime | None:
        """The first instant after ``date_to`` (the end is included)."""
        if self.date_to is None:
            return None
        next_day = self.date_to + datetime.timedelta(days=1)
        return timezone.make_aware(datetime.datetime.combine(next_day, datetime.time.min))

    def during(self, field: str) -> Q:
        """``field`` (a date-time) within the period."""
        q = Q()
        if self.starts_at is not None:
            q &= Q(**{f"{field}__gte": self.starts_at})
        if self.ends_before is not None:
            q &= Q(**{f"{field}__lt": self.ends_before})
        return q

    def during_dates(self, field: str) -> Q:
        """``field`` (a date) within the period."""
        q = Q()
        if self.date_from is not None:
            q &= Q(**{f"{field}__gte": self.date_from})
        if self.date_to is not None:
            q &= Q(**{f"{field}__lte": self.date_to})
        return q

    def as_params(self) -> dict[str, Any]:
        """The filters as the query parameters that give them (for links, CSV and JSON)."""
        return {
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "agency": self.agency_id,
            "region": self.region or None,
            "exploitation_type": self.exploitation_type or None,
        }

    def replace(self, **changes: Any) -> Filters:
        return Filters(**{**asdict(self), **changes})


def default_period(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The last twelve calendar months, this one included: 2025-12-01 to 2026-11-30 on
    30 November 2026."""
    today = today or timezone.localdate()
    months_back = today.year * 12 + today.month - 1 - 11
    return datetime.date(months_back // 12, months_back % 12 + 1, 1), today


def _years_after(day: datetime.date, years: int) -> datetime.date:
    """The same day ``years`` later (29 February becomes 1 March)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return datetime.date(day.year + years, 3, 1)


class DashboardFilterForm(forms.Form):
    """Reads the dashboard's query parameters for one scope.

    ``form.filters`` is the validated ``Filters``; ``form.errors`` says what is wrong,
    per parameter. Unknown parameters are ignored.
    """

    region = forms.CharField(
        label=_("Region"),
        required=False,
        max_length=120,
        error_messages={"max_length": _("A region name has at most %(limit_value)d characters.")},
    )
    exploitation_type = forms.ChoiceField(
        label=_("Exploitation type"),
        required=False,
        choices=[("", _("All types")), *ExploitationType.choices],
        error_messages={
            "invalid_choice": _(
                "“%(value)s” is not an exploitation type. Use one of: "
                + ", ".join(ExploitationType.values)
                + "."
            )
        },
    )

    def __init__(self, data: Any = None, *, scope: Scope, **kwargs: Any) -> None:
        super().__init__(data if data is not None else {}, **kwargs)
        self.scope = scope
        date_errors = {"invalid": _("Enter a date as YYYY-MM-DD, for example 2025-04-01.")}
        # "from" is a Python keyword, so these two are added here, not declared above.
        self.fields["from"] = forms.DateField(
            label=_("From"), required=False, input_formats=[DATE_FORMAT], error_messages=date_errors
        )
        self.fields["to"] = forms.DateField(
            label=_("To"), required=False, input_formats=[DATE_FORMAT], error_messages=date_errors
        )
        self.fields["agency"] = forms.TypedChoiceField(
            label=_("Agency"),
            required=False,
            coerce=int,
            empty_value=None,
            choices=[("", _("All agencies"))] + [(a.id, a.name) for a in scope.agencies],
            error_messages={
                "invalid_choice": _(
                    "Agency %(value)s is not one of this dashboard's agencies; "
                    "leave it out or choose one of them."
                )
            },
        )
        self.order_fields(["from", "to", "agency", "region", "exploitation_type"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("from", "to"):
            day = cleaned.get(name)
            if day is not None and not EARLIEST <= day <= LATEST:
                self.add_error(
                    name,
                    _("Enter a date between %(earliest)s and %(latest)s.")
                    % {"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()},
                )
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and start > end:
            self.add_error("to", _("The end date must be on or after the start date."))
        elif start and end and end >= _years_after(start, LONGEST_PERIOD_YEARS):
            self.add_error(
                "to",
                _("Choose a period of at most %(years)d years.") % {"years": LONGEST_PERIOD_YEARS},
            )
        return cleaned

    @property
    def filters(self) -> Filters:
        """The validated filters, dates defaulting to ``default_period``. Call after
        ``is_valid()`` returned True."""
        if not self.is_valid():
            raise ValueError("The dashboard filters are not valid; read form.errors.")
        data = self.cleaned_data
        start, end = data.get("from"), data.get("to")
        if start is None and end is None:
            start, end = default_period()
        elif start is None:
            start = default_period(end)[0]
        elif end is None:
            end = max(start, timezone.localdate())
        return Filters(
            date_from=start,
            date_to=end,
            agency_id=data.get("agency"),
            region=(data.get("region") or "").strip(),
            exploitation_type=data.get("exploitation_type") or "",
        )


def parse_filters(scope: Scope, params: Any) -> Filters:
    """The API's way in: the filters, or a ``ValidationError`` naming each bad parameter
    (the project's exception handler makes it a 400 with field errors)."""
    form = DashboardFilterForm(params, scope=scope)
    if not form.is_valid():
        raise ValidationError(
            {
                field: [str(message) for message in messages]
                for field, messages in form.errors.items()
            }
        )
    return form.filters
