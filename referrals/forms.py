from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from agencies.models import NOT_A_CURRENT_PARTNER, Agency, AgencyKind, Partnership
from casework.models import Case, JusticeOutcome
from core.form_fields import choice_field, model_choice_field

from .models import (
    Decision,
    NRMReferral,
    ReconsiderationOutcome,
    ReferralKind,
    Requester,
    Urgency,
)
from .nrm_services import NRM_FIELDS


def partner_agencies(agency: Agency) -> QuerySet[Agency]:
    """Active agencies sharing a partnership in force today with ``agency`` (not itself):
    the only ones a case may be referred to."""
    return (
        Agency.objects.filter(
            active=True, pk__in=Partnership.objects.current().of_agency(agency).member_ids()
        )
        .exclude(pk=agency.pk)
        .order_by("name")
    )


class ReferralForm(forms.Form):
    to_agency = forms.ModelChoiceField(
        label=_("Refer to"),
        queryset=Agency.objects.none(),
        error_messages={"invalid_choice": NOT_A_CURRENT_PARTNER},
        help_text=_("Agencies in a partnership with yours whose agreement is in force."),
    )
    kind = forms.ChoiceField(label=_("For"), choices=ReferralKind.choices)
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=Urgency.choices,
        initial=Urgency.ROUTINE,
        help_text=_(
            "Emergency: an answer within hours. Urgent: one working day. "
            "Routine: five working days."
        ),
    )
    reason = forms.CharField(
        label=_("What the person needs from this agency"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Write what they need to act; identity is shared only if you tick the box below."
        ),
    )
    share_identity = forms.BooleanField(
        label=_("Share the person's identity"),
        required=False,
        help_text=_(
            "Needs a recorded consent naming this agency (for a child, a safeguarding basis)."
        ),
    )

    justice_outcome = forms.ModelChoiceField(
        label=_("Justice outcome the file carries"),
        queryset=JusticeOutcome.objects.none(),
        required=False,
        help_text=_("A file to prosecutors carries an outcome recorded on the case."),
    )

    def __init__(
        self,
        *args: Any,
        own_agency: Agency,
        case: Case | None = None,
        file_only: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        agencies = partner_agencies(own_agency)
        if case is not None and case.lead_agency_id != own_agency.pk:
            # A file sent by an agency that does not lead the case goes only where the
            # lead's agreements reach too (``services.may_share_case``).
            agencies = agencies.filter(
                pk__in=Partnership.objects.current().of_agency(case.lead_agency).member_ids()
            )
        outcomes = (
            case.justice_outcomes.select_related("recorded_by_agency")
            if case is not None
            else JusticeOutcome.objects.none()
        )
        if file_only:
            # An officer or prosecutor sends the file carrying their agency's outcome.
            agencies = agencies.filter(kind=AgencyKind.PROSECUTION)
            outcomes = outcomes.filter(recorded_by_agency=own_agency)
            choice_field(self, "kind").choices = [
                (ReferralKind.PROSECUTION_FILE, ReferralKind.PROSECUTION_FILE.label)
            ]
            self.fields["justice_outcome"].required = True
            del self.fields["share_identity"]
        model_choice_field(self, "to_agency").queryset = agencies
        field = model_choice_field(self, "justice_outcome")
        field.queryset = outcomes
        field.label_from_instance = lambda o: (
            _("%(when)s by %(agency)s: %(outcome)s")
            % {
                "when": date_format(o.recorded_at, "j M Y"),
                "agency": o.recorded_by_agency.name,
                "outcome": o.get_court_outcome_display().lower(),
            }
        )
        if not outcomes.exists():
            del self.fields["justice_outcome"]


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Why you decline"), widget=forms.Textarea(attrs={"rows": 3}))


def _date_input() -> forms.DateInput:
    # ISO dates: what <input type="date"> takes as its value, so a stored date is shown.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _datetime_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def nrm_current_values(nrm: NRMReferral) -> dict[str, Any]:
    """The NRM record's values as its form shows them: every field ``nrm_update`` takes.
    A time is shown to the minute (the input's precision), so its initial value is cut to
    the minute too; otherwise a time stored with seconds would read as changed by a form
    sent back untouched."""
    values: dict[str, Any] = {}
    for name in NRM_FIELDS:
        value = getattr(nrm, name)
        if isinstance(value, datetime.datetime):
            value = value.replace(second=0, microsecond=0)
        values[name] = value
    return values


class NRMDecisionForm(forms.Form):
    """One NRM record's reference, decisions and support allocation, filled with the
    record's current values. ``changed_data`` says which of them the user changed: only
    those are passed to ``nrm_update``, so a save never resets what the user left alone
    (recording the support allocation reset a positive Reasonable Grounds
    decision to pending and removed its recovery-period clock)."""

    competent_authority_reference = forms.CharField(
        label=_("Competent authority reference"), max_length=64, required=False
    )
    rg_decision = forms.ChoiceField(
        label=_("Reasonable Grounds decision"), choices=Decision.choices
    )
    rg_decided_on = forms.DateField(
        label=_("Reasonable Grounds decided on"), required=False, widget=_date_input()
    )
    cg_decision = forms.ChoiceField(
        label=_("Conclusive Grounds decision"), choices=Decision.choices
    )
    cg_decided_on = forms.DateField(
        label=_("Conclusive Grounds decided on"), required=False, widget=_date_input()
    )
    support_allocated_at = forms.DateTimeField(
        label=_("Support provider allocated at"), required=False, widget=_datetime_input()
    )
    support_contacted_at = forms.DateTimeField(
        label=_("Support provider first contact at"), required=False, widget=_datetime_input()
    )

    def __init__(self, *args: Any, nrm: NRMReferral, **kwargs: Any) -> None:
        kwargs.setdefault("initial", nrm_current_values(nrm))
        # One form per NRM record on the page: ids unique to the record, so each label
        # and each error summary link reaches its own field. The names stay as they are.
        kwargs.setdefault("auto_id", f"id_nrm{nrm.pk}_%s")
        super().__init__(*args, **kwargs)
        self.nrm = nrm

    def changed_values(self) -> dict[str, Any]:
        """The cleaned values of the fields the user changed, for ``nrm_update``."""
        return {name: self.cleaned_data[name] for name in self.changed_data}


class DutyToNotifyForm(forms.Form):
    anonymous = forms.BooleanField(
        label=_("Anonymous (no personal details on the MS1)"), required=False, initial=True
    )
    reference = forms.CharField(label=_("MS1 reference"), max_length=64, required=False)


class _PerRecordForm(forms.Form):
    """A form for one NRM record among several on the page: ids unique to the record, so
    each label and each error-summary link reaches its own field."""

    def __init__(self, *args: Any, nrm: NRMReferral, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_{self.prefix_name}{nrm.pk}_%s")
        super().__init__(*args, **kwargs)
        self.nrm = nrm

    prefix_name = "record"


class ReconsiderationForm(_PerRecordForm):
    prefix_name = "recon"

    requested_on = forms.DateField(
        label=_("Asked on"),
        widget=_date_input(),
        error_messages={"required": _("Give the date of the request.")},
    )
    requested_by = forms.ChoiceField(label=_("Asked by"), choices=Requester.choices)
    grounds = forms.CharField(
        label=_("Grounds"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("New information or why the decision is thought wrong."),
        error_messages={"required": _("Give the grounds of the request.")},
    )
    extension_granted = forms.BooleanField(
        label=_("Asked after the window: an extension was granted"),
        required=False,
        help_text=_("Only in exceptional circumstances; give the reason below."),
    )
    extension_reason = forms.CharField(
        label=_("Why the extension was granted"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReconsiderationOutcomeForm(_PerRecordForm):
    prefix_name = "outcome"

    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            (ReconsiderationOutcome.UPHELD, ReconsiderationOutcome.UPHELD.label),
            (ReconsiderationOutcome.OVERTURNED, ReconsiderationOutcome.OVERTURNED.label),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose upheld or overturned.")},
    )
    outcome_on = forms.DateField(
        label=_("Decided on"),
        widget=_date_input(),
        error_messages={"required": _("Give the date of the new decision.")},
    )


class WithdrawForm(_PerRecordForm):
    prefix_name = "withdraw"

    reason = forms.CharField(
        label=_("What the person said (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm = forms.BooleanField(
        label=_("The person has asked to leave the NRM"),
        error_messages={"required": _("Confirm that the person asked to leave the NRM.")},
    )
