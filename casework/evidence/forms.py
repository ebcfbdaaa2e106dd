"""Forms of evidence requests, break-glass and justice outcomes. Items are offered by kind
and date only: the officer asking does not see their content."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from core.form_fields import choice_field

from ..models import (
    BreakGlassGrounds,
    CaseNote,
    Document,
    EvidenceItemKind,
    EvidenceRequestItem,
    JusticeOutcome,
    NoteVisibility,
)
from .break_glass import GROUNDS_NEEDED, REASON_NEEDED


def item_value(item: EvidenceRequestItem | dict[str, Any]) -> str:
    if isinstance(item, dict):
        return f"{item['kind']}:{item.get('id') or ''}"
    return f"{item.kind}:{item.document_id or item.note_id or ''}"


def as_items(values: list[str]) -> list[dict[str, Any]]:
    items = []
    for value in values:
        kind, _sep, pk = value.partition(":")
        items.append({"kind": kind, "id": int(pk)} if pk else {"kind": kind})
    return items


def item_label(item: EvidenceRequestItem) -> str:
    document = item.document  # no query when the item is not a document
    if document is not None:
        return _("%(kind)s, uploaded %(date)s") % {
            "kind": document.get_kind_display(),
            "date": date_format(document.uploaded_at, "j M Y"),
        }
    note = item.note
    if note is not None:
        return _("Note of %(date)s by %(agency)s") % {
            "date": date_format(note.created_at, "j M Y"),
            "agency": note.agency.name,
        }
    return str(EvidenceItemKind(item.kind).label)


def case_item_choices(case: Any) -> list[tuple[str, str]]:
    """Every item of the case an officer may ask for, by kind and date."""
    choices = []
    for document in Document.objects.filter(case=case).order_by("uploaded_at", "id"):
        item = EvidenceRequestItem(kind=EvidenceItemKind.DOCUMENT, document=document)
        choices.append((item_value(item), item_label(item)))
    notes = CaseNote.objects.filter(case=case, visibility=NoteVisibility.CASE_TEAM)
    for note in notes.select_related("agency").order_by("created_at", "id"):
        item = EvidenceRequestItem(kind=EvidenceItemKind.NOTE, note=note)
        choices.append((item_value(item), item_label(item)))
    choices.append(("identity:", str(EvidenceItemKind.IDENTITY.label)))
    choices.append(("meeting:", str(EvidenceItemKind.MEETING.label)))
    return choices


class EvidenceRequestForm(forms.Form):
    purpose = forms.CharField(label=_("Investigation or operation"), max_length=200)
    crime_reference = forms.CharField(label=_("Crime reference"), max_length=64, required=False)
    legal_basis = forms.CharField(label=_("Legal basis"), widget=forms.Textarea(attrs={"rows": 3}))
    items = forms.MultipleChoiceField(
        label=_("What you ask for"), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, case: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "items").choices = case_item_choices(case)


class EvidenceApproveForm(forms.Form):
    items = forms.MultipleChoiceField(
        label=_("Approve these items"), widget=forms.CheckboxSelectMultiple
    )
    victim_consulted = forms.BooleanField(
        label=_("The person was consulted, agrees, and is ready"), required=True
    )
    expires_on = forms.DateField(
        label=_("Access ends on (leave empty for the default)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, request: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "items").choices = [
            (item_value(item), item_label(item)) for item in request.items.all()
        ]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class BreakGlassForm(forms.Form):
    """The API's body (``grounds``, ``reason``) and the case by its reference; the
    service's messages for a missing grounds or reason."""

    reference = forms.CharField(
        label=_("Case reference"),
        max_length=32,
        help_text=_("The reference the lead agency gave you, for example NS-2026-0001."),
    )
    grounds = forms.ChoiceField(
        label=_("Grounds"),
        choices=BreakGlassGrounds.choices,
        widget=forms.RadioSelect,
        help_text=_("Every reviewer sees the grounds."),
        error_messages={"required": GROUNDS_NEEDED, "invalid_choice": GROUNDS_NEEDED},
    )
    reason = forms.CharField(
        label=_("Why a life is at risk now"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "The lead agency's case team reads this; reviewers outside it see only the "
            "grounds. Write no names or addresses."
        ),
        error_messages={"required": REASON_NEEDED},
    )
    confirm = forms.BooleanField(
        label=_("I understand that this opening is recorded and reviewed"), required=True
    )


class BreakGlassReviewForm(forms.Form):
    note = forms.CharField(
        label=_("What the review found"), widget=forms.Textarea(attrs={"rows": 3})
    )


class JusticeOutcomeForm(forms.ModelForm):
    class Meta:
        model = JusticeOutcome
        fields = JusticeOutcome.RECORDED_FIELDS
        widgets = {
            "referred_to_prosecutor_on": forms.DateInput(attrs={"type": "date"}),
            "charged_on": forms.DateInput(attrs={"type": "date"}),
            "offences": forms.Textarea(attrs={"rows": 2}),
            "sentence": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "crime_recorded": _("A crime was recorded"),
            "crime_reference": _("Crime reference"),
            "suspects_identified": _("Suspects identified"),
            "referred_to_prosecutor_on": _("File referred to prosecutors on"),
            "charged_on": _("Charged on"),
            "offences": _("Offences charged"),
            "court_outcome": _("Court outcome"),
            "sentence": _("Sentence"),
        }
        help_texts = {
            "offences": _(
                "Modern Slavery Act 2015 offences first (s.1 slavery, servitude and forced or "
                "compulsory labour; s.2 human trafficking; s.4 an offence committed with intent "
                "to traffick), then any others. No names."
            ),
            "sentence": _("The sentence imposed, without names."),
        }
