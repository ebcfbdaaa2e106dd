from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from agencies.models import NOT_A_CURRENT_PARTNER, Agency, AgencyKind, Partnership
from casework.models import Case, JusticeOutcome

from .models import Decision, ReferralKind, Urgency


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
            self.fields["kind"].choices = [
                (ReferralKind.PROSECUTION_FILE, ReferralKind.PROSECUTION_FILE.label)
            ]
            self.fields["justice_outcome"].required = True
            del self.fields["share_identity"]
        self.fields["to_agency"].queryset = agencies  # type: ignore[attr-defined]
        field = self.fields["justice_outcome"]
        field.queryset = outcomes  # type: ignore[attr-defined]
        field.label_from_instance = lambda o: (
            _("%(when)s by %(agency)s: %(outcome)s")
            % {
                "when": date_format(o.recorded_at, "j M Y"),
                "agency": o.recorded_by_agency.name,
                "outcome": o.get_court_outcome_display().lower(),
            }
        )  # type: ignore[attr-defined]
        if not outcomes.exists():
            del self.fields["justice_outcome"]


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Why you decline"), widget=forms.Textarea(attrs={"rows": 3}))


class NRMDecisionForm(forms.Form):
    competent_authority_reference = forms.CharField(
        label=_("Competent authority reference"), max_length=64, required=False
    )
    rg_decision = forms.ChoiceField(
        label=_("Reasonable Grounds decision"), choices=Decision.choices
    )
    rg_decided_on = forms.DateField(
        label=_("Reasonable Grounds decided on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    cg_decision = forms.ChoiceField(
        label=_("Conclusive Grounds decision"), choices=Decision.choices
    )
    cg_decided_on = forms.DateField(
        label=_("Conclusive Grounds decided on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    support_allocated_at = forms.DateTimeField(
        label=_("Support provider allocated at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    support_contacted_at = forms.DateTimeField(
        label=_("Support provider first contact at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class DutyToNotifyForm(forms.Form):
    anonymous = forms.BooleanField(
        label=_("Anonymous (no personal details on the MS1)"), required=False, initial=True
    )
    reference = forms.CharField(label=_("MS1 reference"), max_length=64, required=False)
