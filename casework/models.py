"""Victim case records.

A ``Case`` carries no personal data: identity and location are separate models with
their own permissions (DESIGN.md, "Data that needs extra care"). Every grant that lets
an agency or user reach a case lives in ``CaseAgencyGrant`` / ``CaseUserGrant``.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from agencies import access
from agencies.access import ScopedQuerySet
from agencies.models import Agency, AgencyGrant, Membership, Partnership, Role, UserGrant
from core import blind_index
from core.fields import (
    EncryptedArrayField,
    EncryptedDateField,
    EncryptedEmailField,
    EncryptedTextField,
)

from .permissions import DECIDE_EVIDENCE, REVIEW_BREAK_GLASS, VIEW_CASE, VIEW_IDENTITY
from .storage import get_private_storage

# --- Vocabulary ----------------------------------------------------------------------


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class ClosureReason(models.TextChoices):
    SUPPORT_COMPLETE = "support_complete", _("Support complete")
    MOVED_ON = "moved_on", _("Moved on")
    RETURNED_HOME = "returned_home", _("Returned home")
    LOST_CONTACT = "lost_contact", _("Lost contact")
    DIED = "died", _("Died")
    NOT_A_VICTIM = "not_a_victim", _("Not a victim")
    OTHER = "other", _("Other")


class ExploitationType(models.TextChoices):
    """As counted in UK NRM statistics (DOMAIN.md)."""

    LABOUR = "labour", _("Labour")
    SEXUAL = "sexual", _("Sexual")
    CRIMINAL = "criminal", _("Criminal")
    DOMESTIC_SERVITUDE = "domestic_servitude", _("Domestic servitude")
    ORGAN_HARVESTING = "organ_harvesting", _("Organ harvesting")
    UNKNOWN = "unknown", _("Not specified or unknown")


# HTCDS v2.0 terms each NRM type maps to, for export (DOMAIN.md). One NRM type can
# correspond to several HTCDS types; the export lists them all.
HTCDS_TYPES: dict[str, tuple[str, ...]] = {
    ExploitationType.LABOUR: ("forced_labour",),
    ExploitationType.SEXUAL: ("sexual_exploitation",),
    ExploitationType.CRIMINAL: ("forced_labour", "forced_begging"),
    ExploitationType.DOMESTIC_SERVITUDE: ("servitude",),
    ExploitationType.ORGAN_HARVESTING: ("organ_removal",),
    ExploitationType.UNKNOWN: ("other",),
}


class RiskLevel(models.TextChoices):
    STANDARD = "standard", _("Standard")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    IMMEDIATE = "immediate", _("Immediate")


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Another gender")
    UNKNOWN = "unknown", _("Not known")


class ChildStatusBasis(models.TextChoices):
    """Why ``Case.is_child`` has its value (``casework.services.child_status``)."""

    DATE_OF_BIRTH = "date_of_birth", _("worked out from the date of birth")
    AGE_DISPUTED = "age_disputed", _("age disputed, treated as a child until decided")
    RECORDED = "recorded", _("recorded by the caseworker")


class HowIdentified(models.TextChoices):
    SELF_REFERRAL = "self_referral", _("Self-referral")
    POLICE_OPERATION = "police_operation", _("Police operation")
    NGO_OUTREACH = "ngo_outreach", _("NGO outreach")
    HEALTH = "health", _("Health service")
    INSPECTION = "inspection", _("Inspection")
    OTHER = "other", _("Other")


# --- Case ----------------------------------------------------------------------------


class CaseQuerySet(ScopedQuerySet["Case"]):
    def open(self) -> CaseQuerySet:
        return self.exclude(status=CaseStatus.CLOSED)


class Case(models.Model):
    reference = models.CharField(_("reference"), max_length=32, unique=True, editable=False)
    lead_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="led_cases")
    lead_caseworker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lead_cases",
    )
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closure_reason = models.CharField(max_length=32, choices=ClosureReason.choices, blank=True)
    closure_note = EncryptedTextField(blank=True)
    exploitation_types = ArrayField(
        models.CharField(max_length=32, choices=ExploitationType.choices), default=list, blank=True
    )
    county_lines = models.BooleanField(_("county lines"), default=False)
    exploited_as_child = models.BooleanField(_("exploited as a child"), default=False)
    # Derived, never set directly (``casework.services.child_status``): from the date of
    # birth where it is known, a child while the age is disputed, else the caseworker's
    # tick. Every rule about children (consent, the NRM, dashboards) reads this field.
    is_child = models.BooleanField(_("under 18 now"), default=False)
    age_disputed = models.BooleanField(
        _("age disputed"),
        default=False,
        help_text=_(
            "The person's age is disputed: they are treated as a child until it is decided "
            "(presumption of age, Modern Slavery Act 2015 s.51)."
        ),
    )
    child_status_basis = models.CharField(
        _("under 18 now, because"),
        max_length=16,
        choices=ChildStatusBasis.choices,
        default=ChildStatusBasis.RECORDED,
        editable=False,
    )
    risk_level = models.CharField(
        max_length=16, choices=RiskLevel.choices, default=RiskLevel.STANDARD
    )
    gender = models.CharField(max_length=16, choices=Gender.choices, default=Gender.UNKNOWN)
    nationality = CountryField(blank=True)
    first_language = models.CharField(max_length=80, blank=True)
    interpreter_needed = models.BooleanField(default=False)
    region = models.CharField(_("region where identified"), max_length=120, blank=True)
    how_identified = models.CharField(
        max_length=32, choices=HowIdentified.choices, default=HowIdentified.OTHER
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        permissions = [
            ("view_case_identity", "Can view the victim's identity"),
            ("change_case_identity", "Can record the victim's identity"),
            ("view_case_location", "Can view where the victim is staying"),
            ("change_case_location", "Can record where the victim is staying"),
            ("view_case_needs", "Can view needs"),
            ("change_case_needs", "Can record and update needs"),
            ("view_case_consents", "Can view consents"),
            ("change_case_consents", "Can record and withdraw consents"),
            ("view_case_notes", "Can view notes shared with the case team"),
            ("view_case_lead_notes", "Can view notes kept to the lead agency"),
            ("add_case_note", "Can write notes"),
            ("change_case_flags", "Can raise and clear safeguarding flags"),
            ("view_case_documents", "Can view support documents"),
            ("add_case_document", "Can upload documents"),
            ("manage_case", "Can close, reopen and transfer the case"),
            ("view_case_access", "Can see who can see the case and who viewed it"),
            ("accept_lead_transfer", "Can accept the lead of a case for their agency"),
            ("request_evidence", "Can ask for evidence on a case shared with their force"),
            ("decide_evidence", "Can decide evidence requests with the person"),
            ("break_glass", "Can open identity and location when life is at risk"),
            ("review_break_glass", "Can review a break-glass opening"),
            ("record_justice_outcome", "Can record criminal-justice outcomes"),
        ]
        indexes = [
            models.Index(fields=["lead_agency", "status"], name="case_lead_status_idx"),
            models.Index(fields=["status", "-opened_at"], name="case_status_opened_idx"),
            # The lists' default order: the first page is read from this index, scoped or not.
            models.Index(fields=["-opened_at", "-id"], name="case_opened_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def audit_case_id(self) -> int:
        return self.pk


class CaseReferenceCounter(models.Model):
    """The last number handed out per year: NMS-2026-00042 is the 42nd case of 2026."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class CaseAgencyGrant(AgencyGrant):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseUserGrant(UserGrant):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseChild(models.Model):
    """Abstract base of everything that hangs off one case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta:
        abstract = True

    @property
    def audit_case_id(self) -> int:
        return self.case_id


class LeadAssignment(models.Model):
    """A period during which an agency leads a case: the reason for its full grants."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="lead_assignments")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(ended_at__isnull=True), name="one_current_lead"
            )
        ]

    def __str__(self) -> str:
        return f"lead agency {self.agency} of {self.case}"

    @property
    def audit_case_id(self) -> int:
        return self.case_id


class TransferStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class LeadTransfer(CaseChild):
    """The lead agency proposes another agency; that agency's case manager answers."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transfers")
    from_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    to_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="incoming_transfers"
    )
    reason = EncryptedTextField()
    status = models.CharField(
        max_length=16, choices=TransferStatus.choices, default=TransferStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = EncryptedTextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(status="proposed"),
                name="one_open_transfer_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"transfer of {self.case} to {self.to_agency}"


# --- Identity and location --------------------------------------------------------------


class VictimIdentity(CaseChild):
    """Who the person is. Every field that identifies them is encrypted at rest
    (``core.crypto``); ``match_exact`` and ``match_likely`` are keyed blind indexes
    (``core.blind_index``) for the duplicate checks, useless without their key."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="identity")
    given_name = EncryptedTextField(max_length=150, blank=True)
    family_name = EncryptedTextField(max_length=150, blank=True)
    aliases = EncryptedArrayField(models.CharField(max_length=150), default=list, blank=True)
    date_of_birth = EncryptedDateField(null=True, blank=True)
    estimated_age = models.PositiveSmallIntegerField(null=True, blank=True)
    phone = EncryptedTextField(max_length=32, blank=True, help_text=_("Stored in E.164 form."))
    email = EncryptedEmailField(max_length=254, blank=True)
    documents_held_by_other = models.BooleanField(
        _("identity documents held by someone else"), default=False
    )
    match_exact = models.CharField(max_length=64, blank=True, editable=False)
    match_likely = ArrayField(
        models.CharField(max_length=64), default=list, blank=True, editable=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = _("victim identities")
        indexes = [
            models.Index(
                fields=["match_exact"],
                name="identity_match_exact_idx",
                condition=~models.Q(match_exact=""),
            ),
            GinIndex(fields=["match_likely"], name="identity_match_likely_idx"),
        ]

    def __str__(self) -> str:
        return f"identity on {self.case_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.set_match_tokens()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "match_exact", "match_likely"}
        super().save(*args, **kwargs)

    def set_match_tokens(self) -> None:
        """Recompute the blind indexes from the identity (every save does; a bulk insert
        must call this itself)."""
        found = blind_index.tokens(
            settings.CONCORD_BLIND_INDEX_KEY,
            given_name=self.given_name,
            family_name=self.family_name,
            date_of_birth=self.date_of_birth,
        )
        self.match_exact, self.match_likely = found.exact, list(found.likely)


class DuplicateStrength(models.TextChoices):
    EXACT = "exact", _("Exact: the same names and date of birth")
    LIKELY = "likely", _("Likely: a family name that sounds the same and the same date of birth")


class PossibleDuplicate(models.Model):
    """That the person on ``case`` may be the person on a case another agency leads
    (issue 16): one row per side, found by blind index. The side's readers learn the other
    agency and how to reach it, never ``other_case``: it is here only so the pair can be
    dismissed, refreshed and told to the other side."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="possible_duplicates")
    other_case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    strength = models.CharField(max_length=8, choices=DuplicateStrength.choices)
    found_at = models.DateTimeField(default=timezone.now)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    dismissed_reason = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["-found_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "other_case"], name="one_duplicate_per_pair"),
            models.CheckConstraint(
                condition=~models.Q(case=models.F("other_case")), name="duplicate_of_another_case"
            ),
        ]

    def __str__(self) -> str:
        return f"possible duplicate on {self.case_id}"


class AccommodationType(models.TextChoices):
    SAFE_HOUSE = "safe_house", _("Safe house")
    LOCAL_AUTHORITY = "local_authority", _("Local authority accommodation")
    HOSPITAL = "hospital", _("Hospital")
    OWN_HOME = "own_home", _("Own home")
    OTHER = "other", _("Other")


class CaseLocation(CaseChild):
    """Where the person is staying. The most dangerous fact in the system."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="locations")
    accommodation_type = models.CharField(max_length=32, choices=AccommodationType.choices)
    address = EncryptedTextField()
    since = models.DateField(default=timezone.localdate)
    ended_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(ended_at__isnull=True),
                name="one_current_location",
            )
        ]

    def __str__(self) -> str:
        return f"location on {self.case_id}"


# --- Needs ------------------------------------------------------------------------------


class NeedCategory(models.TextChoices):
    """Support under the UK victim care contract (DOMAIN.md)."""

    SAFE_ACCOMMODATION = "safe_accommodation", _("Safe accommodation")
    PRACTICAL_HELP = "practical_help", _("Practical help")
    HEALTHCARE = "healthcare", _("Healthcare")
    FINANCIAL_SUPPORT = "financial_support", _("Financial support")
    INTERPRETATION = "interpretation", _("Interpretation")
    PSYCHOLOGICAL_SUPPORT = "psychological_support", _("Psychological support")
    LEGAL_IMMIGRATION = "legal_immigration", _("Legal advice: immigration")
    LEGAL_COMPENSATION = "legal_compensation", _("Legal advice: compensation")
    TRANSPORT = "transport", _("Transport")
    CHILDREN_EDUCATION = "children_education", _("Education for dependent children")
    FUTURE_PLANNING = "future_planning", _("Planning for the future (move-on, return home)")


class UrgencyTier(models.IntegerChoices):
    """Maslow's order, the way caseworkers triage (DOMAIN.md)."""

    SAFETY = 1, _("1 · Safety and shelter")
    HEALTH_SUBSISTENCE = 2, _("2 · Physical health and subsistence")
    WELLBEING_STATUS = 3, _("3 · Psychological support and legal status")
    INDEPENDENCE = 4, _("4 · Independence")


DEFAULT_URGENCY: dict[str, int] = {
    NeedCategory.SAFE_ACCOMMODATION: UrgencyTier.SAFETY,
    NeedCategory.PRACTICAL_HELP: UrgencyTier.HEALTH_SUBSISTENCE,
    NeedCategory.HEALTHCARE: UrgencyTier.HEALTH_SUBSISTENCE,
    NeedCategory.FINANCIAL_SUPPORT: UrgencyTier.HEALTH_SUBSISTENCE,
    NeedCategory.INTERPRETATION: UrgencyTier.HEALTH_SUBSISTENCE,
    NeedCategory.TRANSPORT: UrgencyTier.HEALTH_SUBSISTENCE,
    NeedCategory.PSYCHOLOGICAL_SUPPORT: UrgencyTier.WELLBEING_STATUS,
    NeedCategory.LEGAL_IMMIGRATION: UrgencyTier.WELLBEING_STATUS,
    NeedCategory.LEGAL_COMPENSATION: UrgencyTier.WELLBEING_STATUS,
    NeedCategory.CHILDREN_EDUCATION: UrgencyTier.INDEPENDENCE,
    NeedCategory.FUTURE_PLANNING: UrgencyTier.INDEPENDENCE,
}


class NeedStatus(models.TextChoices):
    IDENTIFIED = "identified", _("Identified")
    IN_PROGRESS = "in_progress", _("In progress")
    MET = "met", _("Met")
    DECLINED = "declined", _("Declined by the person")
    UNMET = "unmet", _("Could not be met")


OPEN_NEED_STATUSES = (NeedStatus.IDENTIFIED, NeedStatus.IN_PROGRESS)


class NeedQuerySet(models.QuerySet["Need"]):
    def open(self) -> NeedQuerySet:
        return self.filter(status__in=OPEN_NEED_STATUSES)

    def overdue_first(self) -> NeedQuerySet:
        """Past their target date first, then by urgency tier and target date."""
        today = timezone.localdate()
        overdue = models.Case(
            models.When(target_date__lt=today, then=models.Value(0)),
            default=models.Value(1),
        )
        return self.order_by(overdue, "urgency", models.F("target_date").asc(nulls_last=True), "id")


class Need(CaseChild):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="needs")
    category = models.CharField(max_length=32, choices=NeedCategory.choices)
    urgency = models.PositiveSmallIntegerField(choices=UrgencyTier.choices)
    status = models.CharField(
        max_length=16, choices=NeedStatus.choices, default=NeedStatus.IDENTIFIED
    )
    owner_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="owned_needs")
    target_date = models.DateField(null=True, blank=True)
    note = EncryptedTextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NeedQuerySet.as_manager()

    class Meta:
        ordering = ["urgency", "target_date", "id"]
        indexes = [
            models.Index(fields=["owner_agency", "status", "target_date"], name="need_owner_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} ({self.get_status_display()})"

    @property
    def is_overdue(self) -> bool:
        return (
            self.status in OPEN_NEED_STATUSES
            and self.target_date is not None
            and self.target_date < timezone.localdate()
        )


class NeedStatusChange(models.Model):
    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=16, choices=NeedStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=NeedStatus.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"


# --- Consent ----------------------------------------------------------------------------


class ConsentScope(models.TextChoices):
    NRM_REFERRAL = "nrm_referral", _("Referral into the National Referral Mechanism")
    SHARE_IDENTITY = "share_identity", _("Share identity with a named agency")
    POLICE_CONTACT = "police_contact", _("Contact by the police")
    EVIDENCE_USE = "evidence_use", _("Use of statements and documents as evidence")
    HEALTH_INFORMATION = "health_information", _("Share health information")
    MS1_NAMED = "ms1_named", _("Be named on a Duty to Notify (MS1)")
    NRM_SUPPORT = "nrm_support", _("Support under the National Referral Mechanism")


class ConsentMethod(models.TextChoices):
    WRITTEN = "written", _("Written")
    VERBAL = "verbal", _("Verbal")
    VERBAL_INTERPRETER = "verbal_interpreter", _("Verbal, through an interpreter")
    SAFEGUARDING_BASIS = "safeguarding_basis", _("Safeguarding basis (child, no consent needed)")


class ConsentQuerySet(models.QuerySet["Consent"]):
    def active(self) -> ConsentQuerySet:
        return self.filter(withdrawn_at__isnull=True)


class Consent(CaseChild):
    """What the person agreed to, how and when; or, for a child, the safeguarding basis
    that stands in its place (recorded with its reason)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    scope = models.CharField(max_length=32, choices=ConsentScope.choices)
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The agency identity may be shared with (share_identity only)."),
    )
    given_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=32, choices=ConsentMethod.choices)
    language = models.CharField(max_length=80, blank=True)
    basis_reason = EncryptedTextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = EncryptedTextField(blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["-given_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope="share_identity", agency__isnull=False)
                | (~models.Q(scope="share_identity") & models.Q(agency__isnull=True)),
                name="consent_agency_only_for_identity_sharing",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} on {self.case_id}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


# --- Notes, flags, documents ------------------------------------------------------------


class NoteVisibility(models.TextChoices):
    LEAD_AGENCY = "lead_agency", _("Lead agency only")
    CASE_TEAM = "case_team", _("Everyone working on the case")


class CaseNote(CaseChild):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    body = EncryptedTextField()
    visibility = models.CharField(
        max_length=16, choices=NoteVisibility.choices, default=NoteVisibility.LEAD_AGENCY
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    # Registered with the access engine: an approved evidence request grants one officer
    # these notes one by one (``casework.view_casenote``).
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"note {self.pk} on {self.case_id}"


class CaseNoteRevision(models.Model):
    """The text a note had before an edit."""

    note = models.ForeignKey(CaseNote, on_delete=models.CASCADE, related_name="revisions")
    body = EncryptedTextField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    edited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-edited_at", "-id"]

    def __str__(self) -> str:
        return f"revision of note {self.note_id}"


class FlagKind(models.TextChoices):
    TRAFFICKER_LOOKING = "trafficker_looking", _("Trafficker looking for the person")
    DO_NOT_DISCLOSE_LOCATION = "do_not_disclose_location", _("Do not disclose location")
    RE_TRAFFICKING = "re_trafficking", _("Risk of re-trafficking")
    FAMILY_THREAT = "family_threat", _("Threat from family members")
    SELF_HARM = "self_harm", _("Self-harm risk")
    OTHER = "other", _("Other")


class SafeguardingFlagQuerySet(models.QuerySet["SafeguardingFlag"]):
    def active(self) -> SafeguardingFlagQuerySet:
        return self.filter(active=True)


class SafeguardingFlag(CaseChild):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(max_length=32, choices=FlagKind.choices)
    active = models.BooleanField(default=True)
    note = EncryptedTextField(blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField(default=timezone.now)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cleared_at = models.DateTimeField(null=True, blank=True)

    objects = SafeguardingFlagQuerySet.as_manager()

    class Meta:
        ordering = ["-active", "-raised_at", "-id"]

    def __str__(self) -> str:
        return self.get_kind_display()


class DocumentKind(models.TextChoices):
    STATEMENT = "statement", _("Statement")
    MEDICAL = "medical", _("Medical")
    IDENTITY_DOCUMENT = "identity_document", _("Identity document")
    PHOTO = "photo", _("Photo")
    OTHER = "other", _("Other")


class DocumentPurpose(models.TextChoices):
    SUPPORT = "support", _("Support")
    EVIDENCE = "evidence", _("Evidence")


def document_path(instance: Document, filename: str) -> str:
    # The stored name is random: the person's name must never become a file name.
    return f"documents/{instance.case_id}/{instance.storage_key}"


class Document(CaseChild):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(upload_to=document_path, storage=get_private_storage, max_length=200)
    storage_key = models.CharField(max_length=64, unique=True, editable=False)
    original_name = EncryptedTextField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    kind = models.CharField(max_length=32, choices=DocumentKind.choices)
    purpose = models.CharField(max_length=16, choices=DocumentPurpose.choices)
    description = EncryptedTextField(max_length=300, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    # Registered with the access engine: an approved evidence request grants one officer
    # these documents one by one (``casework.view_document``).
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.case_id}"


class CaseNoteAgencyGrant(AgencyGrant):
    content_object = models.ForeignKey(CaseNote, on_delete=models.CASCADE)


class CaseNoteUserGrant(UserGrant):
    content_object = models.ForeignKey(CaseNote, on_delete=models.CASCADE)


class DocumentAgencyGrant(AgencyGrant):
    content_object = models.ForeignKey(Document, on_delete=models.CASCADE)


class DocumentUserGrant(UserGrant):
    content_object = models.ForeignKey(Document, on_delete=models.CASCADE)


# --- Evidence access and break-glass (issue 6) --------------------------------------------


class EvidenceRequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    PARTLY_APPROVED = "partly_approved", _("Partly approved")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


# Approved requests: the ones that hold grants.
GRANTING_STATUSES = (EvidenceRequestStatus.APPROVED, EvidenceRequestStatus.PARTLY_APPROVED)


class EvidenceItemKind(models.TextChoices):
    DOCUMENT = "document", _("A document")
    NOTE = "note", _("A note visible to the case team")
    IDENTITY = "identity", _("The person's identity")
    MEETING = "meeting", _("A meeting with the person")


class EvidenceAccessRequestQuerySet(models.QuerySet["EvidenceAccessRequest"]):
    def visible_to(self, user: Any, perm: str = DECIDE_EVIDENCE) -> EvidenceAccessRequestQuerySet:
        """The scoping entry point of evidence requests: the officer's own, and those on
        cases where the user holds ``perm`` (``DECIDE_EVIDENCE``: the lead agency's care
        roles, who decide with the person). 404 to everyone else."""
        if access.is_superuser(user):
            return self.all()
        if access.active_membership(user) is None:
            return self.none()
        decidable = Case.objects.visible_to(user, perm).values("pk")
        return self.filter(models.Q(requested_by_id=user.pk) | models.Q(case__in=decidable))


class EvidenceAccessRequest(CaseChild):
    """An officer asks for evidence; the lead agency decides with the person."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence_requests")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(_("investigation or operation"), max_length=200)
    crime_reference = models.CharField(_("crime reference"), max_length=64, blank=True)
    legal_basis = EncryptedTextField(_("legal basis"))
    status = models.CharField(
        max_length=16, choices=EvidenceRequestStatus.choices, default=EvidenceRequestStatus.PENDING
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = EncryptedTextField(blank=True)
    victim_consulted = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Set when the officer was told the end is near, so beat tells them once.
    expiry_warned_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_reason = EncryptedTextField(blank=True)

    objects = EvidenceAccessRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            # Beat's expiry scan touches only the approved requests.
            models.Index(
                fields=["expires_at"],
                condition=models.Q(status__in=["approved", "partly_approved"]),
                name="evidence_request_granting",
            )
        ]

    def __str__(self) -> str:
        return f"evidence request {self.pk} on {self.case_id}"


class EvidenceRequestItem(models.Model):
    """One thing asked for; ``approved`` is None until the request is decided."""

    request = models.ForeignKey(
        EvidenceAccessRequest, on_delete=models.CASCADE, related_name="items"
    )
    kind = models.CharField(max_length=16, choices=EvidenceItemKind.choices)
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    note = models.ForeignKey(
        CaseNote, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    approved = models.BooleanField(null=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="document", document__isnull=False, note__isnull=True)
                    | models.Q(kind="note", note__isnull=False, document__isnull=True)
                    | models.Q(
                        kind__in=["identity", "meeting"], note__isnull=True, document__isnull=True
                    )
                ),
                name="evidence_item_names_what_its_kind_needs",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} item of request {self.request_id}"


class BreakGlassReviewTier(models.TextChoices):
    """Who reviews a break-glass, in the order the duty falls (issue 14)."""

    CASE_MANAGERS = "case_managers", _("The lead agency's case managers")
    AGENCY_ADMINS = "agency_admins", _("The lead agency's administrators")
    PARTNERSHIP_MANAGERS = "partnership_managers", _("The partnership's managers")


class BreakGlassGrounds(models.TextChoices):
    """Why the glass was broken, in the words a force's control room uses (issue 14
    review). Structured, so that reviewers who may not read the person's details (a
    partnership manager, the lead agency's administrators) still know what kind of
    emergency it was; the free-text reason is for those who may."""

    THREAT_TO_LIFE = "threat_to_life", _("Threat to life")
    SERIOUS_HARM = "serious_harm", _("Risk of serious harm, imminent")
    MISSING_AT_RISK = "missing_at_risk", _("Missing person, high risk")
    MEDICAL_EMERGENCY = "medical_emergency", _("Medical emergency")
    OTHER = "other", _("Other immediate risk to life or safety")


# The order the duty falls in, and the role that holds it at each step.
REVIEW_TIERS: tuple[str, ...] = tuple(BreakGlassReviewTier.values)
REVIEW_TIER_ROLE: dict[str, str] = {
    BreakGlassReviewTier.CASE_MANAGERS: Role.CASE_MANAGER,
    BreakGlassReviewTier.AGENCY_ADMINS: Role.AGENCY_ADMIN,
    BreakGlassReviewTier.PARTNERSHIP_MANAGERS: Role.PARTNERSHIP_MANAGER,
}
ROLE_REVIEW_TIER: dict[str, str] = {role: tier for tier, role in REVIEW_TIER_ROLE.items()}


def break_glass_reviewer_memberships(
    tier: str, *, event: Any, lead_agency: Any, breaker: Any, breaker_agency: Any
) -> models.QuerySet[Membership]:
    """The active members who hold the review duty of one tier of a break-glass.

    The one rule both ``casework.evidence.break_glass_reviewers`` (one event, in Python)
    and ``BreakGlassEvent.objects.to_review_by`` (every event, in SQL) are built from:
    ``event``, ``lead_agency``, ``breaker`` and ``breaker_agency`` are ids, or
    ``OuterRef`` expressions.

    - case managers, agency admins: of the agency that led the case when the glass was
      broken (``BreakGlassEvent.lead_agency``). When the breaker is of the lead agency
      (a case manager on their own case), their colleagues review them: the lead agency
      answers for its case, and its case managers and admins are who knows whether the
      opening was needed;
    - partnership managers: of any agency of the partnerships stored on the event (in
      force when the glass was broken, shared by the lead agency and the breaker's),
      except the breaker's own agency (``BreakGlassEvent.agency``): the partnership's
      check on an agency is never that agency's own manager (issue 14 review).

    Active means an active user of an active agency; the person who broke the glass never
    reviews it, whatever their role.
    """
    members = Membership.objects.filter(
        role=REVIEW_TIER_ROLE[tier], user__is_active=True, agency__active=True
    ).exclude(user_id=breaker)
    if tier == BreakGlassReviewTier.PARTNERSHIP_MANAGERS:
        return members.filter(agency__partnerships__break_glass_events=event).exclude(
            agency_id=breaker_agency
        )
    return members.filter(agency_id=lead_agency)


class BreakGlassEventQuerySet(models.QuerySet["BreakGlassEvent"]):
    def unreviewed(self) -> BreakGlassEventQuerySet:
        return self.filter(reviewed_at__isnull=True)

    def to_review_by(self, user: Any) -> BreakGlassEventQuerySet:
        """The events whose review duty is ``user``'s now (reviewed or not), in one query.

        The SQL twin of ``casework.evidence.break_glass_reviewers``: the duty sits with
        the tier stored on the event, and falls to the next tier only while every
        earlier one, from the stored tier on, has nobody active in it (a lone case
        manager left, the agency was deactivated). So a user of role R reviews an event
        whose stored tier is R's, or an earlier tier now empty down to R's. A duty is a
        member's: a superuser sees every event (``visible_to``) but reviews none as such.
        """
        membership = access.active_membership(user)
        if membership is None or not access.role_may(membership.role, REVIEW_BREAK_GLASS):
            return self.none()
        mine = ROLE_REVIEW_TIER.get(membership.role)
        if mine is None:
            return self.none()

        def nobody_in(tier: str) -> models.Q:
            return ~models.Q(
                models.Exists(
                    break_glass_reviewer_memberships(
                        tier,
                        event=models.OuterRef("pk"),
                        lead_agency=models.OuterRef("lead_agency_id"),
                        breaker=models.OuterRef("opened_by_id"),
                        breaker_agency=models.OuterRef("agency_id"),
                    )
                )
            )

        position = REVIEW_TIERS.index(mine)
        falls_to_me = models.Q(review_tier=mine)
        for start in range(position):
            fell = models.Q(review_tier=REVIEW_TIERS[start])
            for tier in REVIEW_TIERS[start:position]:
                fell &= nobody_in(tier)
            falls_to_me |= fell
        if mine == BreakGlassReviewTier.PARTNERSHIP_MANAGERS:
            # Never a manager of the breaker's own agency (break_glass_reviewer_memberships).
            reaches_me = models.Q(
                models.Exists(
                    BreakGlassEvent.partnerships.through.objects.filter(
                        breakglassevent_id=models.OuterRef("pk"),
                        partnership__agencies=membership.agency_id,
                    )
                )
            ) & ~models.Q(agency_id=membership.agency_id)
        else:
            reaches_me = models.Q(lead_agency_id=membership.agency_id)
        return self.filter(reaches_me, falls_to_me).exclude(opened_by_id=user.pk)

    def visible_to(self, user: Any, perm: str) -> BreakGlassEventQuerySet:
        """The events whose record ``user`` may see (``perm``: ``REVIEW_BREAK_GLASS``).

        The record of a break-glass (who, which agency, when, why, until when, what they
        read; never the case's identity, location or notes) is seen by the person who
        broke the glass, by those whose review duty it is (``to_review_by``, whoever
        they are: partnership managers included), and by the lead agency's holders of
        ``review_break_glass`` on the case (its case managers, who see every opening on
        their case page). Everyone else: 404, as if it did not exist.
        """
        if perm != REVIEW_BREAK_GLASS:
            raise ImproperlyConfigured(
                f"Break-glass events are scoped by {REVIEW_BREAK_GLASS!r}, not {perm!r}."
            )
        if access.is_superuser(user):
            return self
        if access.active_membership(user) is None:
            return self.none()
        mine = models.Q(opened_by_id=user.pk)
        duty = models.Q(pk__in=BreakGlassEvent.objects.to_review_by(user).values("pk"))
        lead = models.Q(case_id__in=Case.objects.visible_to(user, REVIEW_BREAK_GLASS).values("pk"))
        return self.filter(mine | duty | lead)

    def with_text_for(self, user: Any) -> BreakGlassEventQuerySet:
        """Each event marked with whether ``user`` may read its free text, in the same query:
        ``shows_reason`` and ``shows_review_note``.

        The reason and the review's note may describe the person ("Mira Novak at 7
        Harbour Row..."), so they are read only by those who may read who the person is:
        holders of ``VIEW_IDENTITY`` on the case (the lead agency's case team; the breaker
        while the glass is open) and the breaker, who wrote the reason and answers for it
        (the review's note too: it judges their opening). The note's author reads what
        they wrote. Every other viewer (a partnership manager, the lead agency's
        administrators) sees the grounds and never the text (issue 14 review). A
        superuser reads everything, as everywhere (``scope``).
        """
        if getattr(user, "pk", None) is None:  # nobody signed in reads no text
            nothing = models.Value(False)
            return self.annotate(shows_reason=nothing, shows_review_note=nothing)
        identity = models.Q(case_id__in=Case.objects.visible_to(user, VIEW_IDENTITY).values("pk"))
        reason = identity | models.Q(opened_by_id=user.pk)
        note = reason | models.Q(reviewed_by_id=user.pk)
        return self.annotate(
            shows_reason=models.ExpressionWrapper(reason, output_field=models.BooleanField()),
            shows_review_note=models.ExpressionWrapper(note, output_field=models.BooleanField()),
        )


class BreakGlassEvent(CaseChild):
    """Identity and location opened to one person for a short time, life being at risk.

    Flagged until one of its reviewers records a review. Who reviews is fixed when the
    glass is broken and stored here, so that the people told are the people who may
    review: the tier (``review_tier``), the agency that led the case then
    (``lead_agency``) and the partnerships in force that allowed it (``partnerships``).
    The duty falls to the next tier later only if every one of the stored tier leaves
    (``BreakGlassEventQuerySet.to_review_by``, ``casework.evidence.break_glass_reviewers``).
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="break_glass_events")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    # What kind of emergency, for every reviewer; the free text only for those who may
    # read the person's details (``BreakGlassEventQuerySet.with_text_for``).
    grounds = models.CharField(max_length=32, choices=BreakGlassGrounds.choices)
    reason = EncryptedTextField()
    opened_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    review_tier = models.CharField(
        max_length=32,
        choices=BreakGlassReviewTier.choices,
        default=BreakGlassReviewTier.CASE_MANAGERS,
    )
    lead_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    partnerships = models.ManyToManyField(
        Partnership, related_name="break_glass_events", blank=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = EncryptedTextField(blank=True)

    objects = BreakGlassEventQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            # Reviewers' task lists, the home page's count and beat's daily scan read only
            # the (few) unreviewed events.
            models.Index(
                fields=["lead_agency", "opened_at"],
                condition=models.Q(reviewed_at__isnull=True),
                name="break_glass_unreviewed",
            ),
            # One person's openings in the last day (the daily limit, the fresh reason).
            models.Index(fields=["opened_by", "opened_at"], name="break_glass_by_person"),
        ]

    def __str__(self) -> str:
        return f"break-glass {self.pk} on {self.case_id}"

    def is_overdue(self, now: datetime.datetime | None = None) -> bool:
        """Unreviewed longer than BREAK_GLASS_REVIEW_OVERDUE_HOURS: marked on the task
        lists and reminded daily."""
        age = (now or timezone.now()) - self.opened_at
        return self.reviewed_at is None and age >= datetime.timedelta(
            hours=settings.BREAK_GLASS_REVIEW_OVERDUE_HOURS
        )


# --- Criminal justice (issue 6 builds on it) ---------------------------------------------


class CourtOutcome(models.TextChoices):
    PENDING = "pending", _("Pending")
    CONVICTED = "convicted", _("Convicted")
    ACQUITTED = "acquitted", _("Acquitted")
    DISCONTINUED = "discontinued", _("Discontinued")
    OTHER = "other", _("Other")


class JusticeOutcome(CaseChild):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="justice_outcomes")
    recorded_by_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    crime_recorded = models.BooleanField(default=False)
    crime_reference = models.CharField(max_length=64, blank=True)
    suspects_identified = models.PositiveSmallIntegerField(default=0)
    referred_to_prosecutor_on = models.DateField(null=True, blank=True)
    charged_on = models.DateField(null=True, blank=True)
    offences = EncryptedTextField(blank=True)
    court_outcome = models.CharField(
        max_length=16, choices=CourtOutcome.choices, default=CourtOutcome.PENDING
    )
    sentence = EncryptedTextField(blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    # What an officer or prosecutor records (the rest is set by the service).
    RECORDED_FIELDS = (
        "crime_recorded",
        "crime_reference",
        "suspects_identified",
        "referred_to_prosecutor_on",
        "charged_on",
        "offences",
        "court_outcome",
        "sentence",
    )

    class Meta:
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"justice outcome on {self.case_id}"


# --- Case tasks (issue 17) ------------------------------------------------------------------


class CaseTaskKind(models.TextChoices):
    TURNED_ADULT = "turned_adult", _("The person has turned 18: adult consent rules now apply")
    FILE_MS1 = "file_ms1", _("Adult declined an NRM referral: file a Duty to Notify (MS1)")


class CaseTaskQuerySet(models.QuerySet["CaseTask"]):
    def open(self) -> CaseTaskQuerySet:
        return self.filter(done_at__isnull=True)

    def visible_to(self, user: Any, perm: str = VIEW_CASE) -> CaseTaskQuerySet:
        """The tasks ``user`` sees: those of their own agency on cases they may ``perm``
        (``VIEW_CASE``). A task is its agency's work: another agency that sees the case
        does not see it (404 at both doors)."""
        if access.is_superuser(user):
            return self.all()
        membership = access.active_membership(user)
        if membership is None:
            return self.none()
        return self.filter(
            agency_id=membership.agency_id,
            case__in=Case.objects.visible_to(user, perm).values("pk"),
        )


class CaseTask(CaseChild):
    """Something Concord asks an agency to do on a case (the person turned 18, an adult
    declined an NRM referral). Opened by the system (``casework.services.task_open``),
    marked done by a member of its agency (``task_complete``)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    # Whose task it is: the lead agency when it was opened, unless the opener said.
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=CaseTaskKind.choices)
    # What opened it, as ids ("nrm_decline:12"): never personal data.
    reason_key = models.CharField(max_length=64, blank=True)
    due_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = CaseTaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            # task_open is idempotent: one open task of a kind per case, even when two
            # openings race.
            models.UniqueConstraint(
                fields=["case", "kind"],
                condition=models.Q(done_at__isnull=True),
                name="one_open_task_per_kind",
            ),
        ]
        indexes = [
            models.Index(
                fields=["agency", "due_on"],
                condition=models.Q(done_at__isnull=True),
                name="case_task_open_by_agency",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} task on {self.case_id}"

    @property
    def is_open(self) -> bool:
        return self.done_at is None

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_on < timezone.localdate()
