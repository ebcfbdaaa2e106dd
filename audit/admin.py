from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is written by Concord and changed by nobody."""

    list_display = [
        "occurred_at",
        "action",
        "actor",
        "actor_agency",
        "target_type",
        "target_id",
        "case_id",
    ]
    list_filter = ["action", "actor_agency"]
    search_fields = ["action", "target_type", "target_id", "request_id", "actor__username"]
    date_hierarchy = "occurred_at"
    list_select_related = ["actor", "actor_agency"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
