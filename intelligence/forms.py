"""Forms of the intelligence pages. They check the shape of input and say which line or
choice is wrong; the rules (audience, recipients, grading on submitted reports) live in
the services (``intelligence.reports``, ``intelligence.operations``), whose errors the views
show on these forms."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from agencies.models import Agency, SharingGroup
from casework.models import Case, ExploitationType
from casework.permissions import VIEW_CASE
from core.form_fields import model_choice_field

from .entities import EXAMPLES, normalise
from .models import (
    GRADING_HELP,
    MAX_WORKERS_PRESENT,
    TLP,
    Distribution,
    EntityKind,
    HandlingCode,
    Indicator,
    IntelligenceAssessment,
    IntelligenceReport,
    PremisesType,
    SourceEvaluation,
    VisitOutcome,
)

# The radio groups whose every choice carries its meaning (GRADING_HELP) next to it.
GRADING_RADIOS = (
    "source_evaluation",
    "intelligence_assessment",
    "handling_code",
    "tlp",
    "distribution",
)

# What a caseworker may type before the colon of an entity line, besides the kind's code.
_KIND_WORDS: dict[str, str] = {
    **{kind.value: kind.value for kind in EntityKind},
    **{str(kind.label).casefold(): kind.value for kind in EntityKind},
    "phone number": EntityKind.PHONE,
    "mobile": EntityKind.PHONE,
    "telephone": EntityKind.PHONE,
    "registration": EntityKind.VEHICLE,
    "vehicle registration": EntityKind.VEHICLE,
    "number plate": EntityKind.VEHICLE,
    "business name": EntityKind.BUSINESS,
    "company": EntityKind.BUSINESS,
    "email address": EntityKind.EMAIL,
    "e-mail": EntityKind.EMAIL,
    "person of interest": EntityKind.PERSON,
}
_REFERENCE_SEPARATORS = re.compile(r"[\s,;]+")


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _checkboxes() -> forms.CheckboxSelectMultiple:
    return forms.CheckboxSelectMultiple()


def entity_lines(entities: list[dict[str, str]]) -> str:
    """Entities as the form's text: one ``kind: value`` per line."""
    return "\n".join(f"{item['kind']}: {item['value']}" for item in entities)


def parse_entity_lines(text: str, *, region: str) -> list[dict[str, str]]:
    """``kind: value`` lines → ``[{"kind", "value"}]``; every bad line named in the error.

    Blank lines are skipped but still counted, so "line 3" is the third line the writer
    sees in the box.
    """
    entities: list[dict[str, str]] = []
    problems: list[str] = []
    kinds = ", ".join(EntityKind.values)
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        word, colon, value = line.partition(":")
        if not colon:
            problems.append(
                _("Line %(n)d: write the kind, a colon and the value, e.g. “phone: %(example)s”.")
                % {"n": number, "example": EXAMPLES[EntityKind.PHONE]}
            )
            continue
        kind = _KIND_WORDS.get(" ".join(word.split()).casefold())
        if kind is None:
            problems.append(
                _(
                    "Line %(n)d: “%(word)s” is not a kind of entity; start the line with "
                    "one of: %(kinds)s."
                )
                % {"n": number, "word": word.strip(), "kinds": kinds}
            )
            continue
        try:
            normalise(kind, value, region=region)
        except ValidationError as error:
            problems.append(
                _("Line %(n)d: %(problem)s") % {"n": number, "problem": " ".join(error.messages)}
            )
            continue
        entities.append({"kind": kind, "value": value.strip()})
    if problems:
        raise ValidationError(problems)
    return entities


# A mixin of forms: type-checked as the form it is mixed into.
if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    _FormBase = forms.BaseForm
else:
    _FormBase = object


class DescribedChoicesMixin(_FormBase):
    """Radio groups rendered with each choice's meaning beside it (``_radios.html``)."""

    def described_choices(self, name: str) -> list[dict[str, Any]]:
        bound = self[name]
        help_texts = GRADING_HELP.get(name, {})
        current = bound.value()
        current = "" if current is None else str(current)
        # A radio group's field is a ChoiceField, its choices normalised by Django to
        # (value, label) pairs; the stubs type Field, which has no choices.
        choices = bound.field.choices  # type: ignore[attr-defined]
        return [
            {
                "id": f"{bound.auto_id}_{index}",
                "value": value,
                "label": label,
                "help": help_texts.get(str(value), ""),
                "checked": str(value) == current,
            }
            for index, (value, label) in enumerate(choices)
            if value != ""
        ]

    @property
    def radio_choices(self) -> dict[str, list[dict[str, Any]]]:
        """Each radio group's choices with their meaning, by field name (for templates)."""
        return {
            name: self.described_choices(name) for name in GRADING_RADIOS if name in self.fields
        }


_RADIO_REQUIRED: dict[str, StrOrPromise] = {
    "source_evaluation": _("Choose how reliable the source is: 1, 2 or 3."),
    "intelligence_assessment": _("Choose how the source knows it: A to E."),
    "handling_code": _("Choose the handling code: P or C."),
    "tlp": _("Choose the TLP colour."),
    "distribution": _("Choose which agencies the report is distributed to."),
}


def _radio(name: str, label: StrOrPromise, choices: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        widget=forms.RadioSelect,
        error_messages={"required": _RADIO_REQUIRED[name]},
    )


def _other_agencies(agency: Agency) -> Any:
    """Active agencies other than the user's own, by name (recipients, partners)."""
    return Agency.objects.filter(active=True).exclude(pk=agency.pk).order_by("name")


def _require_conditions(form: forms.Form, data: dict[str, Any]) -> None:
    """Handling code C is not valid without its conditions (the service says so too)."""
    if (
        data.get("handling_code") == HandlingCode.CONDITIONS
        and not (data.get("handling_conditions") or "").strip()
    ):
        form.add_error(
            "handling_conditions",
            _("Handling code C needs its conditions: write what readers may and may not do."),
        )


class ReportForm(DescribedChoicesMixin, forms.Form):
    """A report, new or changed. ``grading=False`` leaves out the grading (a submitted
    report is re-graded through ``RegradeForm``, with a reason)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(
        label=_("Summary (travels to other agencies)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "The sanitised text other agencies read: no source, no victim's name or contact "
            "details. Required to submit."
        ),
    )
    full_text = forms.CharField(
        label=_("Full text (your agency only)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Never shown outside your agency."),
    )
    source_description = forms.CharField(
        label=_("Source (your agency only)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Who or what the information came from. Never shown outside your agency."),
    )
    source_evaluation = _radio(
        "source_evaluation", _("Source evaluation"), SourceEvaluation.choices
    )
    intelligence_assessment = _radio(
        "intelligence_assessment", _("Intelligence assessment"), IntelligenceAssessment.choices
    )
    handling_code = _radio("handling_code", _("Handling code"), HandlingCode.choices)
    handling_conditions = forms.CharField(
        label=_("Handling conditions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Required for handling code C: what readers must and must not do with it. Every "
            "reader in another agency acknowledges them before reading the summary."
        ),
    )
    tlp = _radio("tlp", _("Traffic Light Protocol (TLP)"), TLP.choices)
    distribution = _radio("distribution", _("Distribution"), Distribution.choices)
    sharing_group = forms.ModelChoiceField(
        label=_("Sharing group"),
        queryset=SharingGroup.objects.none(),
        required=False,
        empty_label=_("None"),
        help_text=_("Only with the distribution “A named sharing group”."),
    )
    tlp_recipients = forms.ModelMultipleChoiceField(
        label=_("Named recipients (only for TLP:RED)"),
        queryset=Agency.objects.none(),
        required=False,
        widget=_checkboxes(),
        help_text=_(
            "Only for TLP:RED: the agencies, within the distribution, that may read the "
            "report. Leave all unticked for any other TLP."
        ),
    )
    exploitation_types = forms.MultipleChoiceField(
        label=_("Types of exploitation"),
        choices=ExploitationType.choices,
        required=False,
        widget=_checkboxes(),
    )
    area = forms.CharField(
        label=_("Area"),
        max_length=120,
        required=False,
        help_text=_("A region or a postcode district, e.g. NE1."),
    )
    review_on = forms.DateField(
        label=_("Review date"),
        required=False,
        widget=_date_input(),
        help_text=_("Leave blank for a year from today."),
    )
    entities = forms.CharField(
        label=_("Entities"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=_(
            "One per line: the kind, a colon, the value. Kinds: phone, vehicle, postcode, "
            "address, business, email, person. For example “phone: +44 7911 123456”, "
            "“vehicle: AB12 CDE”, “person: Jan Kowalski, 1984-03-09” (a person needs a date "
            "of birth). Entities are matched with other agencies' reports without showing "
            "them your report."
        ),
    )
    linked_cases = forms.CharField(
        label=_("Linked cases"),
        required=False,
        max_length=2000,
        help_text=_(
            "References of cases you can see, separated by commas, e.g. NMS-2026-00042. "
            "Other agencies see a link only to cases they can see themselves."
        ),
    )

    def __init__(
        self,
        *args: Any,
        user: Any,
        agency: Agency,
        grading: bool = True,
        editing: bool = False,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["review_on"].help_text = _("Leave blank to keep the current date.")
        elif (days := settings.INTELLIGENCE_REVIEW_DAYS) != 365:
            self.fields["review_on"].help_text = ngettext(
                "Leave blank for %(days)d day from today.",
                "Leave blank for %(days)d days from today.",
                days,
            ) % {"days": days}
        self.user = user
        self.agency = agency
        model_choice_field(self, "sharing_group").queryset = SharingGroup.objects.for_agency(
            agency
        ).order_by("name")
        model_choice_field(self, "tlp_recipients").queryset = _other_agencies(agency)
        if not grading:
            for name in ("source_evaluation", "intelligence_assessment", "handling_code"):
                del self.fields[name]
            for name in ("handling_conditions", "tlp", "tlp_recipients"):
                del self.fields[name]

    def clean_entities(self) -> list[dict[str, str]]:
        return parse_entity_lines(self.cleaned_data["entities"], region=self.agency.country)

    def clean_linked_cases(self) -> list[Case]:
        raw = self.cleaned_data["linked_cases"] or ""
        wanted = [ref.upper() for ref in _REFERENCE_SEPARATORS.split(raw) if ref]
        if not wanted:
            return []
        found = {
            case.reference: case
            for case in Case.objects.visible_to(self.user, VIEW_CASE).filter(reference__in=wanted)
        }
        missing = [ref for ref in dict.fromkeys(wanted) if ref not in found]
        if missing:
            raise ValidationError(
                _("No case you can see has the reference %(refs)s.") % {"refs": ", ".join(missing)}
            )
        return list({ref: found[ref] for ref in wanted}.values())

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean returns
        if "handling_code" in self.fields:
            _require_conditions(self, data)
        if data.get("distribution") == Distribution.SHARING_GROUP and not data.get("sharing_group"):
            self.add_error("sharing_group", _("Choose the sharing group to distribute to."))
        return data

    def report_fields(self) -> dict[str, Any]:
        """The cleaned data under the services' names."""
        data = dict(self.cleaned_data)
        if data.get("distribution") != Distribution.SHARING_GROUP:
            data["sharing_group"] = None
        data["linked_cases"] = [case.pk for case in data.get("linked_cases", [])]
        if "tlp_recipients" in data:
            data["tlp_recipients"] = [agency.pk for agency in data["tlp_recipients"]]
        if "sharing_group" in data and data["sharing_group"] is not None:
            data["sharing_group"] = data["sharing_group"].pk
        return data


def report_initial(report: IntelligenceReport, user: Any) -> dict[str, Any]:
    """A report as the form's initial data (the originating agency's view of it)."""
    visible_cases = Case.objects.visible_to(user, VIEW_CASE).values("pk")
    return {
        "title": report.title,
        "summary": report.summary,
        "full_text": report.full_text,
        "source_description": report.source_description,
        "source_evaluation": report.source_evaluation,
        "intelligence_assessment": report.intelligence_assessment,
        "handling_code": report.handling_code,
        "handling_conditions": report.handling_conditions,
        "tlp": report.tlp,
        "distribution": report.distribution,
        "sharing_group": report.sharing_group_id,
        "tlp_recipients": list(report.tlp_recipients.values_list("pk", flat=True)),
        "exploitation_types": report.exploitation_types,
        "area": report.area,
        "review_on": report.review_on,
        "entities": entity_lines(
            [{"kind": e.kind, "value": e.value} for e in report.entities.order_by("kind", "pk")]
        ),
        "linked_cases": ", ".join(
            report.linked_cases.filter(pk__in=visible_cases)
            .order_by("reference")
            .values_list("reference", flat=True)
        ),
    }


class RegradeForm(DescribedChoicesMixin, forms.Form):
    """A new grading for a submitted report, and why."""

    source_evaluation = _radio(
        "source_evaluation", _("Source evaluation"), SourceEvaluation.choices
    )
    intelligence_assessment = _radio(
        "intelligence_assessment", _("Intelligence assessment"), IntelligenceAssessment.choices
    )
    handling_code = _radio("handling_code", _("Handling code"), HandlingCode.choices)
    handling_conditions = ReportForm.base_fields["handling_conditions"]
    tlp = _radio("tlp", _("Traffic Light Protocol (TLP)"), TLP.choices)
    tlp_recipients = forms.ModelMultipleChoiceField(
        label=_("Named recipients (only for TLP:RED)"),
        queryset=Agency.objects.none(),
        required=False,
        widget=_checkboxes(),
        help_text=ReportForm.base_fields["tlp_recipients"].help_text,
    )
    reason = forms.CharField(
        label=_("Why the grading changes"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why the grading changes.")},
        help_text=_("Kept with the report's grading history."),
    )

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "tlp_recipients").queryset = _other_agencies(agency)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean returns
        _require_conditions(self, data)
        return data

    def grading(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "reason": data["reason"],
            "source_evaluation": data["source_evaluation"],
            "intelligence_assessment": data["intelligence_assessment"],
            "handling_code": data["handling_code"],
            "handling_conditions": data["handling_conditions"]
            if data["handling_code"] == HandlingCode.CONDITIONS
            else "",
            "tlp": data["tlp"],
            "tlp_recipients": [agency.pk for agency in data["tlp_recipients"]],
        }


class ArchiveForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is archived"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Other agencies stop seeing it; your agency keeps it, read-only."),
    )


class OperationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("e.g. Operation Lather"))
    starts_on = forms.DateField(label=_("Starts on"), widget=_date_input())
    ends_on = forms.DateField(
        label=_("Ends on"),
        required=False,
        widget=_date_input(),
        help_text=_("Leave blank while it runs."),
    )
    partner_agencies = forms.ModelMultipleChoiceField(
        label=_("Partner agencies"),
        queryset=Agency.objects.none(),
        required=False,
        widget=_checkboxes(),
        help_text=_("They see the operation and its visits, and record visits in it."),
    )

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "partner_agencies").queryset = _other_agencies(agency)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean returns
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("An operation cannot end before it starts."))
        return data


class VisitForm(forms.Form):
    premises_type = forms.ChoiceField(
        label=_("Premises type"),
        choices=[("", _("Choose the type of premises")), *PremisesType.choices],
        error_messages={"required": _("Choose the type of premises.")},
    )
    postcode_district = forms.CharField(
        label=_("Postcode district"),
        max_length=8,
        help_text=_("The outward code only, e.g. NE1: never the full address."),
        error_messages={"required": _("Give the postcode district, e.g. NE1.")},
    )
    visited_on = forms.DateField(label=_("Date of the visit"), widget=_date_input())
    workers_present = forms.IntegerField(
        label=_("Workers present"), required=False, min_value=0, max_value=MAX_WORKERS_PRESENT
    )
    indicators = forms.MultipleChoiceField(
        label=_("Indicators observed"),
        choices=Indicator.choices,
        required=False,
        widget=_checkboxes(),
        help_text=_("Tick everything you saw or were told."),
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[("", _("Choose the outcome")), *VisitOutcome.choices],
        error_messages={"required": _("Choose the outcome of the visit.")},
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Read by your agency only, not by the operation's other agencies. A report your "
            "agency starts from this visit keeps them in its full text, which stays in your "
            "agency."
        ),
    )
