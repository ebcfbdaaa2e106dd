from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency

from .models import Decision, ReferralKind, Urgency


class ReferralForm(forms.Form):
    to_agency = forms.ModelChoiceField(label=_("Refer to"), queryset=Agency.objects.none())
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

    def __init__(self, *args: Any, own_agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_agency"].queryset = Agency.objects.filter(active=True).exclude(
            pk=own_agency.pk
        )  # type: ignore[attr-defined]


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
