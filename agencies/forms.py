from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.form_fields import choice_field

from .models import Agency, Role, role_fits_agency

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def roles_for(agency: Agency) -> list[tuple[str, StrOrPromise]]:
    return [(value, label) for value, label in Role.choices if role_fits_agency(value, agency.kind)]


class MemberCreateForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("Email"))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "role").choices = roles_for(agency)
        self.fields["email"].help_text = _(
            "We email an invitation with a link to choose a password."
        )


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "role").choices = roles_for(agency)
