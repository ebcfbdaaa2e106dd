"""The Django admin, for superusers: agencies and memberships go through the services."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from audit.audit_actions import AuthAction
from audit.record import record

from . import second_factor, services
from .models import Agency, Membership, Partnership, SharingGroup, User


@admin.register(User)
class ConcordUserAdmin(UserAdmin):
    list_display = ["username", "email", "is_active", "is_superuser"]
    actions = ["reset_second_factors"]

    @admin.action(description=_("Reset second factors (they set up a new one at sign-in)"))
    def reset_second_factors(self, request: HttpRequest, queryset: Any) -> None:
        """A superuser resets the second factors of the chosen users (a member's agency
        admin does it on the agency's pages): audited, signed out, told."""
        for user in queryset:
            if user.pk == request.user.pk:
                self.message_user(
                    request,
                    _("Your own second factors were left alone; ask another superuser."),
                    messages.WARNING,
                )
                continue
            second_factor.second_factors_reset(actor=request.user, user=user)
            self.message_user(
                request,
                _("%(user)s's second factors were reset.") % {"user": user.get_username()},
                messages.SUCCESS,
            )

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        """A superuser sets a user's password: the user's sessions and tokens end, as
        after any password change."""
        before = User.objects.filter(pk=id).values_list("password", flat=True).first()
        response = super().user_change_password(request, id, form_url)
        user = User.objects.filter(pk=id).first()
        if user is not None and before is not None and user.password != before:
            record(AuthAction.PASSWORD_CHANGED, actor=request.user, target=user)
            services.sign_ins_end(
                actor=request.user,
                user=user,
                reason="password_set_by_admin",
                request=request,
            )
            second_factor.password_changed_tell(user)
        return response


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "country",
        "subdivision",
        "region",
        "is_first_responder",
        "active",
    ]
    list_filter = ["kind", "country", "subdivision", "is_first_responder", "active"]
    search_fields = ["name", "region"]
    exclude = ["group"]

    def save_model(self, request: HttpRequest, obj: Agency, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.agency_create(
            actor=request.user,
            name=obj.name,
            kind=obj.kind,
            country=obj.country,
            subdivision=obj.subdivision,
            region=obj.region,
            is_first_responder=obj.is_first_responder,
            intelligence_contact=obj.intelligence_contact,
        )
        obj.pk, obj.group_id = created.pk, created.group_id


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Writes go through the services, so admin changes are checked and audited too."""

    list_display = ["user", "agency", "role"]
    list_filter = ["role", "agency"]
    search_fields = ["user__username", "agency__name"]
    list_select_related = ["user", "agency"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Moving a person between agencies is a new account, not an edit.
        return ["user", "agency"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        if change:
            role = obj.role
            obj.refresh_from_db(fields=["role"])
            services.membership_change_role(actor=request.user, membership=obj, role=role)
        else:
            created = services.membership_attach(
                actor=request.user, user=obj.user, agency=obj.agency, role=obj.role
            )
            obj.pk = created.pk


@admin.register(Partnership)
class PartnershipAdmin(admin.ModelAdmin):
    list_display = ["name", "agreement_reference", "starts_on", "ends_on"]
    filter_horizontal = ["agencies"]


@admin.register(SharingGroup)
class SharingGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "owner"]
    filter_horizontal = ["members"]
