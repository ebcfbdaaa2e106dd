"""What the person agreed to, or the safeguarding basis that stands in its place."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from core.fields import EncryptedTextField

from .case import Case, CaseChild


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
