"""The one filter of intelligence lists and search, shared by the browser and the API.

``ReportFilter`` narrows a queryset that is already the reader's audience
(``intelligence.search.search_reports`` builds it: ``readable_reports`` annotated by
``with_reader_state``); it never widens what a reader sees. Its text filter ``q`` is the
full-text search, and needs that annotation to keep a conditioned report's summary
unsearchable until its conditions are acknowledged (see ``filter_q``).
"""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django import forms
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Case, F, Q, QuerySet, When
from django.db.models.functions import Coalesce
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from casework.models import ExploitationType
from core.filters import FilterSet

from .entities import is_postcode_district
from .models import (
    SEARCH_CONFIG,
    TLP,
    HandlingCode,
    IntelligenceAssessment,
    IntelligenceReport,
    SourceEvaluation,
    title_search_vector,
)

MAX_QUERY_LENGTH = 200


def _choice_errors(message: Any) -> dict[str, Any]:
    return {"invalid_choice": message}


_DATE_ERRORS = {"invalid": _("Give the date as YYYY-MM-DD, e.g. 2026-03-31.")}


class ReportFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data  # what Form.clean returns
        start, end = cleaned.get("submitted_from"), cleaned.get("submitted_to")
        if start and end and start > end:
            self.add_error("submitted_to", _("The end date is before the start date."))
        return cleaned


class ReportFilter(FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label=_("Words"),
        max_length=MAX_QUERY_LENGTH,
        help_text=_(
            'Searches titles and summaries. Use "quotes" for a phrase, or to leave a '
            "word out, e.g. car wash -Leeds."
        ),
    )
    source_evaluation = django_filters.ChoiceFilter(
        choices=SourceEvaluation.choices,
        label=_("Source evaluation"),
        error_messages=_choice_errors(
            _("“%(value)s” is not a source evaluation: choose 1, 2 or 3.")
        ),
    )
    intelligence_assessment = django_filters.ChoiceFilter(
        choices=IntelligenceAssessment.choices,
        label=_("Intelligence assessment"),
        error_messages=_choice_errors(
            _("“%(value)s” is not an intelligence assessment: choose A, B, C, D or E.")
        ),
    )
    handling_code = django_filters.ChoiceFilter(
        choices=HandlingCode.choices,
        label=_("Handling code"),
        error_messages=_choice_errors(_("“%(value)s” is not a handling code: choose P or C.")),
    )
    tlp = django_filters.ChoiceFilter(
        choices=TLP.choices,
        label=_("TLP"),
        error_messages=_choice_errors(
            _("“%(value)s” is not a TLP colour: choose CLEAR, GREEN, AMBER, AMBER+STRICT or RED.")
        ),
    )
    exploitation_type = django_filters.ChoiceFilter(
        choices=ExploitationType.choices,
        method="filter_exploitation_type",
        label=_("Exploitation type"),
        error_messages=_choice_errors(
            format_lazy(
                _("“%(value)s” is not a type of exploitation: choose one of {}."),
                ", ".join(ExploitationType.values),
            )
        ),
    )
    area = django_filters.CharFilter(
        method="filter_area",
        label=_("Area"),
        max_length=120,
        help_text=_("A region, or a postcode district or area, e.g. NE1 or NE."),
    )
    submitted_from = django_filters.DateFilter(
        method="filter_submitted_from",
        label=_("Submitted on or after"),
        error_messages=_DATE_ERRORS,
    )
    submitted_to = django_filters.DateFilter(
        method="filter_submitted_to",
        label=_("Submitted on or before"),
        error_messages=_DATE_ERRORS,
    )

    class Meta:
        model = IntelligenceReport
        fields: list[str] = []
        form = ReportFilterForm

    def filter_q(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        """Full-text search over the stored ``search_vector`` (title and summary only: never
        the full text or the source), best match first, then newest.

        A C report whose current conditions the reader has not acknowledged is matched on
        its title alone, and ranked on its title alone: its summary is not the reader's to
        see yet, so neither whether it contains a word nor how often may show. Such a row
        must not be tested against ``search_vector`` at all: "a title match is a
        ``search_vector`` match" is false for a negated word ("car -passports" matches the
        title but not title and summary when the summary says passports), so requiring
        both would let the reader test any word of the summary.

        Each side of the OR has its GIN index (``intelligence_search_idx``, and the partial
        ``intel_c_title_search_idx`` on C reports' titles), so PostgreSQL answers it with a
        BitmapOr of the two rather than by reading every report in the audience.
        """
        if "reader_must_acknowledge" not in queryset.query.annotations:
            raise ImproperlyConfigured(
                "ReportFilter's text search needs the queryset of search_reports() "
                "(annotated by audience.with_reader_state)."
            )
        query = SearchQuery(value, search_type="websearch", config=SEARCH_CONFIG)
        title_vector = title_search_vector()
        return (
            queryset.alias(title_vector=title_vector)
            .filter(
                Q(reader_must_acknowledge=False, search_vector=query)
                | Q(reader_must_acknowledge=True, title_vector=query)
            )
            .annotate(
                rank=Case(
                    When(reader_must_acknowledge=True, then=SearchRank(title_vector, query)),
                    default=SearchRank(F("search_vector"), query),
                )
            )
            .order_by("-rank", "-created_at", "-id")
        )

    def filter_exploitation_type(
        self, queryset: QuerySet[Any], name: str, value: str
    ) -> QuerySet[Any]:
        return queryset.filter(exploitation_types__contains=[value])

    def filter_area(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        """A prefix, in any case: "NE" finds NE1 and NE23, "North" finds Northshire. A whole
        postcode district finds itself only (NE1 is not NE10), and postcodes within it."""
        area = " ".join(value.split())
        if is_postcode_district(area):
            return queryset.filter(Q(area__iexact=area) | Q(area__istartswith=f"{area} "))
        return queryset.filter(area__istartswith=area)

    def _dated(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # A draft has not been submitted: it is dated by when it was written.
        if "dated_at" in queryset.query.annotations:
            return queryset
        return queryset.alias(dated_at=Coalesce("submitted_at", "created_at"))

    # Days in the project's time zone; compared as dates in SQL, so no boundary is
    # computed here (the day after 9999-12-31 does not exist in Python).
    def filter_submitted_from(
        self, queryset: QuerySet[Any], name: str, value: datetime.date
    ) -> QuerySet[Any]:
        return self._dated(queryset).filter(dated_at__date__gte=value)

    def filter_submitted_to(
        self, queryset: QuerySet[Any], name: str, value: datetime.date
    ) -> QuerySet[Any]:
        return self._dated(queryset).filter(dated_at__date__lte=value)
