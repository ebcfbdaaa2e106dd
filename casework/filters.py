"""The one filter of case lists, shared by the browser and the API."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _

from core.filters import FilterSet

from .models import (
    Case,
    CaseStatus,
    CaseTask,
    ExploitationType,
    Need,
    RiskLevel,
    SafeguardingFlag,
)
from .permissions import VIEW_CASE

# Most urgent first when sorting by risk.
RISK_ORDER = (RiskLevel.IMMEDIATE, RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.STANDARD)


def case_list_queryset(user: Any) -> QuerySet[Case]:
    """Cases the user may see, with what a list row shows, in a fixed number of queries."""
    return (
        Case.objects.visible_to(user, VIEW_CASE)
        .annotate(
            risk_rank=models.Case(
                *[
                    models.When(risk_level=level, then=models.Value(rank))
                    for rank, level in enumerate(RISK_ORDER)
                ],
                output_field=models.IntegerField(),
            ),
        )
        .prefetch_related(
            Prefetch("flags", queryset=SafeguardingFlag.objects.active(), to_attr="active_flags"),
        )
    )


def mark_open_needs(cases: list[Case]) -> None:
    """Set ``has_open_needs`` on one page of cases, in one query.

    Not an EXISTS column in the list query: PostgreSQL planned that as a hash of every
    open need on each request (230 ms at 100,000 cases), whatever the page size.
    """
    with_open = set(
        Need.objects.open()
        .filter(case_id__in=[case.pk for case in cases])
        .order_by()
        .values_list("case_id", flat=True)
    )
    for case in cases:
        case.has_open_needs = case.pk in with_open


class CaseFilter(FilterSet):
    q = django_filters.CharFilter(
        field_name="reference", lookup_expr="icontains", label=_("Reference")
    )
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices, label=_("Status"))
    exploitation_type = django_filters.ChoiceFilter(
        field_name="exploitation_types",
        lookup_expr="contains",
        choices=ExploitationType.choices,
        method="filter_exploitation_type",
        label=_("Exploitation type"),
    )
    risk_level = django_filters.ChoiceFilter(choices=RiskLevel.choices, label=_("Risk"))
    open_needs = django_filters.BooleanFilter(method="filter_open_needs", label=_("Has open needs"))
    ordering = django_filters.OrderingFilter(
        fields=(
            ("opened_at", "opened"),
            ("reference", "reference"),
            ("risk_rank", "risk"),
            ("status", "status"),
        ),
        label=_("Sort by"),
    )

    class Meta:
        model = Case
        fields: list[str] = []

    def filter_exploitation_type(
        self, queryset: QuerySet[Case], name: str, value: str
    ) -> QuerySet[Case]:
        return queryset.filter(exploitation_types__contains=[value]) if value else queryset

    def filter_open_needs(self, queryset: QuerySet[Case], name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        has_open = Exists(Need.objects.open().filter(case=OuterRef("pk")))
        return queryset.filter(has_open if value else ~has_open)


class TaskFilter(FilterSet):
    """A case's tasks: ``open=true`` for those not done yet."""

    open = django_filters.BooleanFilter(
        field_name="done_at", lookup_expr="isnull", label=_("Not done yet")
    )

    class Meta:
        model = CaseTask
        fields: list[str] = []
