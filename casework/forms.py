"""Forms of the casework pages. They check the shape of input; the rules live in services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from agencies.models import Agency, Partnership
from core.form_fields import model_choice_field

from .duplicates import REASON_NEEDED
from .models import (
    AccommodationType,
    ChildStatusBasis,
    ClosureReason,
    ConsentMethod,
    ConsentScope,
    DocumentKind,
    DocumentPurpose,
    ExploitationType,
    FlagKind,
    Gender,
    HowIdentified,
    NeedCategory,
    NeedStatus,
    NoteVisibility,
    RiskLevel,
    UrgencyTier,
)

IDENTITY_ON_OPENING = ("given_name", "family_name", "date_of_birth", "estimated_age", "phone")


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _country_choices() -> list[tuple[str, str]]:
    return [("", _("Not known")), *((code, name) for code, name in countries)]


def _active_agencies() -> Any:
    return Agency.objects.filter(active=True).order_by("name")


CHILD_STATUS_HINTS: dict[str, Any] = {
    ChildStatusBasis.DATE_OF_BIRTH: _(
        "Worked out from the date of birth: a change here is ignored. Correct the date of "
        "birth, or tick “Age disputed”."
    ),
    ChildStatusBasis.AGE_DISPUTED: _(
        "Age disputed: treated as a child until it is decided. Untick “Age disputed” once "
        "the age is decided."
    ),
}


class CaseForm(forms.Form):
    """The summary of a case: nothing here identifies the person."""

    exploitation_types = forms.MultipleChoiceField(
        label=_("Types of exploitation"),
        choices=ExploitationType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    county_lines = forms.BooleanField(label=_("County lines"), required=False)
    exploited_as_child = forms.BooleanField(label=_("Exploited as a child"), required=False)
    is_child = forms.BooleanField(
        label=_("Under 18 now"),
        required=False,
        help_text=_("Worked out from the date of birth once it is recorded."),
    )
    age_disputed = forms.BooleanField(
        label=_("Age disputed"),
        required=False,
        help_text=_(
            "Tick while the person's age is disputed: they are treated as a child until it "
            "is decided (presumption of age, Modern Slavery Act 2015 s.51)."
        ),
    )
    risk_level = forms.ChoiceField(
        label=_("Risk level"), choices=RiskLevel.choices, initial=RiskLevel.STANDARD
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, initial=Gender.UNKNOWN)
    nationality = forms.ChoiceField(
        label=_("Nationality"), choices=_country_choices, required=False
    )
    first_language = forms.CharField(label=_("First language"), max_length=80, required=False)
    interpreter_needed = forms.BooleanField(label=_("Needs an interpreter"), required=False)
    region = forms.CharField(label=_("Region where identified"), max_length=120, required=False)
    how_identified = forms.ChoiceField(
        label=_("How the person was identified"),
        choices=HowIdentified.choices,
        initial=HowIdentified.OTHER,
    )

    def __init__(self, *args: Any, child_status_basis: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Why "under 18 now" has its value (casework.ages): the tick is ignored while the
        # date of birth or a disputed age decides it, and the hint says so.
        hint = CHILD_STATUS_HINTS.get(child_status_basis)
        if hint:
            self.fields["is_child"].help_text = hint

    def case_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in CaseForm.base_fields}


class CaseCreateForm(CaseForm):
    """A new case, with who the person is (kept apart from the case, see DESIGN.md)."""

    given_name = forms.CharField(
        label=_("Given name"),
        max_length=150,
        required=False,
        help_text=_("Leave blank if the person has not said."),
    )
    family_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=_date_input())
    estimated_age = forms.IntegerField(
        label=_("Estimated age"),
        min_value=0,
        max_value=120,
        required=False,
        help_text=_("When the date of birth is not known."),
    )
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)

    def identity_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in IDENTITY_ON_OPENING}

    # The page shows the case and the person in two fieldsets.
    def case_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in CaseForm.base_fields]

    def identity_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in IDENTITY_ON_OPENING]


class IdentityForm(forms.Form):
    given_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    family_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    aliases = forms.CharField(
        label=_("Other names used"),
        required=False,
        help_text=_("Separate names with commas."),
    )
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=_date_input())
    estimated_age = forms.IntegerField(
        label=_("Estimated age"), min_value=0, max_value=120, required=False
    )
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    documents_held_by_other = forms.BooleanField(
        label=_("Identity documents are held by someone else"), required=False
    )

    def clean_aliases(self) -> list[str]:
        raw = self.cleaned_data["aliases"] or ""
        names = [name.strip() for name in raw.split(",") if name.strip()]
        if any(len(name) > 150 for name in names):
            raise forms.ValidationError(_("Each name can have at most 150 characters."))
        return names


class LocationForm(forms.Form):
    accommodation_type = forms.ChoiceField(
        label=_("Type of accommodation"), choices=AccommodationType.choices
    )
    address = forms.CharField(label=_("Address"), widget=forms.Textarea(attrs={"rows": 3}))
    since = forms.DateField(
        label=_("Staying there since"),
        required=False,
        widget=_date_input(),
        help_text=_("Leave blank for today."),
    )


class NeedAddForm(forms.Form):
    category = forms.ChoiceField(label=_("Need"), choices=NeedCategory.choices)
    owner_agency = forms.ModelChoiceField(
        label=_("Agency responsible"),
        queryset=Agency.objects.none(),
        required=False,
        empty_label=_("The lead agency"),
    )
    target_date = forms.DateField(label=_("Target date"), required=False, widget=_date_input())
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    urgency = forms.TypedChoiceField(
        label=_("Urgency"),
        choices=[("", _("Follow the need's usual urgency")), *UrgencyTier.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "owner_agency").queryset = _active_agencies()


class NeedEditForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=NeedStatus.choices)
    owner_agency = forms.ModelChoiceField(
        label=_("Agency responsible"),
        queryset=Agency.objects.none(),
        empty_label=_("Choose an agency"),
    )
    target_date = forms.DateField(label=_("Target date"), required=False, widget=_date_input())
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "owner_agency").queryset = _active_agencies()


class ConsentForm(forms.Form):
    scope = forms.ChoiceField(label=_("What the person agreed to"), choices=ConsentScope.choices)
    agency = forms.ModelChoiceField(
        label=_("Agency"),
        queryset=Agency.objects.none(),
        required=False,
        empty_label=_("No agency"),
        help_text=_("Only for sharing identity: the agency it may be shared with."),
    )
    given_at = forms.DateTimeField(
        label=_("Given on"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave blank for now."),
    )
    method = forms.ChoiceField(label=_("How it was given"), choices=ConsentMethod.choices)
    language = forms.CharField(
        label=_("Language"),
        max_length=80,
        required=False,
        help_text=_("The language used, when through an interpreter."),
    )
    basis_reason = forms.CharField(
        label=_("Safeguarding reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For a child, the safeguarding basis that stands in place of consent."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "agency").queryset = _active_agencies()


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 4}))
    visibility = forms.ChoiceField(
        label=_("Who may read it"),
        choices=NoteVisibility.choices,
        initial=NoteVisibility.LEAD_AGENCY,
    )


class NoteEditForm(forms.Form):
    body = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 6}))


class FlagForm(forms.Form):
    kind = forms.ChoiceField(label=_("Safeguarding concern"), choices=FlagKind.choices)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class DocumentForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("A PDF, a JPEG, PNG or WebP image, or a Word document."),
    )
    kind = forms.ChoiceField(label=_("Kind of document"), choices=DocumentKind.choices)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=DocumentPurpose.choices)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)


class CloseForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why the case is closing"),
        choices=[("", _("Choose a reason")), *ClosureReason.choices],
        error_messages={"required": _("Choose why the case is being closed.")},
    )
    note = forms.CharField(
        label=_("Closing note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the reason is “Other”."),
    )


class TransferForm(forms.Form):
    to_agency = forms.ModelChoiceField(
        label=_("Agency to lead the case"),
        queryset=Agency.objects.none(),
        empty_label=_("Choose an agency"),
    )
    reason = forms.CharField(label=_("Why"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, lead_agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only agencies in a partnership in force with the lead (the service checks again).
        partners = Partnership.objects.current().of_agency(lead_agency).member_ids()
        field = model_choice_field(self, "to_agency")
        field.queryset = _active_agencies().filter(pk__in=partners).exclude(pk=lead_agency.pk)


class DismissDuplicateForm(forms.Form):
    """A possible match at another agency that is not the same person."""

    reason = forms.CharField(
        label=_("Why is this not the same person?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "For example, what the other agency told you when you contacted it. It is kept "
            "on your agency's side: the other agency is told only that you marked the match "
            "as not the same person."
        ),
        error_messages={"required": REASON_NEEDED},
    )
