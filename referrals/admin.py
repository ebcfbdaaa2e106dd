from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import DutyToNotify, NRMReferral, Referral


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    """Read-only: referrals change through their services (accept, decline...)."""

    list_display = [
        "pk",
        "case",
        "from_agency",
        "to_agency",
        "kind",
        "urgency",
        "status",
        "respond_by",
    ]
    list_filter = ["status", "kind", "urgency"]
    list_select_related = ["case", "from_agency", "to_agency"]
    exclude = ["reason", "decline_reason"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(NRMReferral)
class NRMReferralAdmin(admin.ModelAdmin):
    list_display = ["pk", "case", "agency", "submitted_at", "rg_decision", "cg_decision"]
    list_filter = ["rg_decision", "cg_decision"]
    list_select_related = ["case", "agency"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DutyToNotify)
class DutyToNotifyAdmin(admin.ModelAdmin):
    list_display = ["pk", "case", "agency", "submitted_at", "anonymous"]
    list_select_related = ["case", "agency"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
