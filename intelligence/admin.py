"""Admin for superusers: the metadata of intelligence, read-only.

No text of a report (title, summary, full text, source, conditions), no entity value and
no visit notes appear here: reading intelligence goes through ``reads.report_read``,
which applies the audience rule and writes the audit. Every change goes through the
services too, so nothing here can be added, changed or deleted.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import GradingChange, IntelligenceReport, Match, Operation, PremisesVisit


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IntelligenceReport)
class IntelligenceReportAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "originating_agency",
        "status",
        "source_evaluation",
        "intelligence_assessment",
        "handling_code",
        "tlp",
        "distribution",
        "created_at",
    ]
    list_filter = ["status", "tlp", "distribution", "handling_code", "originating_agency"]
    list_select_related = ["originating_agency"]
    fields = [
        "originating_agency",
        "author",
        "status",
        "source_evaluation",
        "intelligence_assessment",
        "handling_code",
        "conditions_version",
        "tlp",
        "distribution",
        "sharing_group",
        "exploitation_types",
        "review_on",
        "created_at",
        "submitted_at",
        "archived_at",
    ]


@admin.register(GradingChange)
class GradingChangeAdmin(ReadOnlyAdmin):
    list_display = ["report", "changed_at", "changed_by", "__str__"]
    list_select_related = ["changed_by", "report"]
    fields = [
        "report",
        "changed_by",
        "changed_at",
        "old_source_evaluation",
        "new_source_evaluation",
        "old_intelligence_assessment",
        "new_intelligence_assessment",
        "old_handling_code",
        "new_handling_code",
        "old_tlp",
        "new_tlp",
    ]


@admin.register(Match)
class MatchAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "kind",
        "new_report",
        "existing_report",
        "existing_agency_told",
        "new_agency_told",
        "created_at",
    ]
    list_filter = ["kind", "new_agency_told"]
    fields = [
        "kind",
        "new_report",
        "existing_report",
        "existing_agency_told",
        "new_agency_told",
        "created_at",
    ]


@admin.register(Operation)
class OperationAdmin(ReadOnlyAdmin):
    list_display = ["name", "lead_agency", "starts_on", "ends_on"]
    list_filter = ["lead_agency"]
    list_select_related = ["lead_agency"]
    search_fields = ["name"]
    fields = ["name", "lead_agency", "starts_on", "ends_on", "partner_agencies", "created_by"]


@admin.register(PremisesVisit)
class PremisesVisitAdmin(ReadOnlyAdmin):
    list_display = ["id", "premises_type", "postcode_district", "visited_on", "outcome", "agency"]
    list_filter = ["premises_type", "outcome"]
    list_select_related = ["agency"]
    fields = [
        "operation",
        "agency",
        "premises_type",
        "postcode_district",
        "visited_on",
        "workers_present",
        "indicators",
        "outcome",
        "recorded_by",
        "case",
        "report",
    ]
