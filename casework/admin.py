"""Admin for superusers: summaries and justice outcomes only.

Identity, location, notes and documents are deliberately not in the admin: every read
of them must go through casework.reads, which checks the grant and writes the audit.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Case, JusticeOutcome


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["reference", "status", "lead_agency", "risk_level", "opened_at"]
    list_filter = ["status", "risk_level", "lead_agency"]
    search_fields = ["reference"]
    list_select_related = ["lead_agency"]
    fields = [
        "reference",
        "status",
        "lead_agency",
        "lead_caseworker",
        "opened_at",
        "closed_at",
        "closure_reason",
        "exploitation_types",
        "county_lines",
        "exploited_as_child",
        "is_child",
        "age_disputed",
        "child_status_basis",
        "risk_level",
        "region",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.fields  # changes go through the services (the case page or the API)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(JusticeOutcome)
class JusticeOutcomeAdmin(admin.ModelAdmin):
    list_display = ["case", "recorded_by_agency", "crime_recorded", "charged_on", "court_outcome"]
    list_filter = ["court_outcome", "crime_recorded"]
    search_fields = ["case__reference", "crime_reference"]
    list_select_related = ["case", "recorded_by_agency"]
    raw_id_fields = ["case"]
