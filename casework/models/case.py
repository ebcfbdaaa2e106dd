"""Cases, their vocabulary, and who leads them.

A ``Case`` carries no personal data: identity and location are separate models with
their own permissions (DESIGN.md, "Data that needs extra care"). Every grant that lets
an agency or user reach a case lives in ``CaseAgencyGrant`` / ``CaseUserGrant``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from agencies.access import ScopedQuerySet
from agencies.models import Agency, AgencyGrant, UserGrant
from core.fields import EncryptedTextField

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
    """Why ``Case.is_child`` has its value (``casework.ages.child_status``)."""

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
    # Derived, never set directly (``casework.ages.child_status``): from the date of
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
