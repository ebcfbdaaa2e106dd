"""The outbox in the Django admin, read-only: for an operator looking at stuck rows."""

from django.contrib import admin
from django.http import HttpRequest

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["kind", "recipient", "created_at", "delivered_at", "read_at", "attempts"]
    list_filter = ["kind", ("delivered_at", admin.EmptyFieldListFilter)]
    list_select_related = ["recipient"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
