"""Referrals between agencies, and the National Referral Mechanism (NRM)."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies import access
from agencies.models import Agency
from casework.models import Case, Consent
from casework.permissions import VIEW_CASE
from core.fields import EncryptedTextField

from .calendar import add_working_days
from .permissions import CHANGE_NRM, VIEW_NRM


class ReferralKind(models.TextChoices):
    ACCOMMODATION = "accommodation", _("Accommodation")
    CASEWORK_SUPPORT = "casework_support", _("Casework support")
    HEALTH = "health", _("Health")
    LEGAL_ADVICE = "legal_advice", _("Legal advice")
    POLICE_CRIME_REPORT = "police_crime_report", _("Crime report to the police")
    PROSECUTION_FILE = "prosecution_file", _("File to prosecutors")
    REPATRIATION_SUPPORT = "repatriation_support", _("Repatriation support")
    OTHER = "other", _("Other")


class Urgency(models.TextChoices):
    EMERGENCY = "emergency", _("Emergency")
    URGENT = "urgent", _("Urgent")
    ROUTINE = "routine", _("Routine")


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Waiting for an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")
    COMPLETED = "completed", _("Completed")
    # Accepted, then the agencies stopped sharing a partnership in force (with each other
    # or with the case's lead agency): beat took back what the acceptance granted
    # (``services.sharing_end_outside_partnerships``, issue 14).
    ENDED = "ended", _("Ended: no agreement in force")


class ReferralQuerySet(models.QuerySet["Referral"]):
    def visible_to(self, user: Any, perm: str) -> ReferralQuerySet:
        """The referrals ``user`` may ``perm``: those to or from their agency, for a role
        that may ever hold ``perm`` (a superuser: all). Referrals are agency-scoped, not
        object-granted: the one scoping entry point of pages and API alike."""
        if access.is_superuser(user):
            return self.all()
        membership = access.active_membership(user)
        if membership is None or not access.role_may(membership.role, perm):
            return self.none()
        return self.for_agency(membership.agency_id)

    def for_agency(self, agency_id: int | None) -> ReferralQuerySet:
        """Referrals to or from the agency: its inbox and its outbox."""
        if agency_id is None:
            return self.none()
        return self.filter(models.Q(to_agency_id=agency_id) | models.Q(from_agency_id=agency_id))

    def waiting(self) -> ReferralQuerySet:
        return self.filter(status=ReferralStatus.SENT)

    def overdue(self, now: datetime.datetime | None = None) -> ReferralQuerySet:
        return self.waiting().filter(respond_by__lt=now or timezone.now())


class Referral(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    from_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="outgoing_referrals"
    )
    to_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="incoming_referrals"
    )
    kind = models.CharField(max_length=32, choices=ReferralKind.choices)
    urgency = models.CharField(max_length=16, choices=Urgency.choices, default=Urgency.ROUTINE)
    reason = EncryptedTextField()
    share_identity = models.BooleanField(default=False)
    identity_basis = models.ForeignKey(
        Consent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The consent naming the receiving agency, or a child's safeguarding basis."),
    )
    justice_outcome = models.ForeignKey(
        "casework.JusticeOutcome",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="prosecution_files",
        help_text=_("What a file to prosecutors carries: the outcome recorded on the case."),
    )
    status = models.CharField(
        max_length=16, choices=ReferralStatus.choices, default=ReferralStatus.SENT
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)
    respond_by = models.DateTimeField()
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    decline_reason = EncryptedTextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [
            models.Index(fields=["to_agency", "status", "respond_by"], name="referral_inbox_idx"),
            models.Index(fields=["from_agency", "status"], name="referral_outbox_idx"),
            models.Index(fields=["status", "respond_by"], name="referral_due_idx"),
        ]
        constraints = [
            # Only a file to prosecutors carries an outcome. That every new file carries
            # one is the service's rule (``referral_send``): files sent before outcomes
            # were recorded have none.
            models.CheckConstraint(
                condition=models.Q(justice_outcome__isnull=True)
                | models.Q(kind="prosecution_file"),
                name="referral_outcome_only_on_prosecution_file",
            )
        ]

    def __str__(self) -> str:
        return f"referral {self.pk} ({self.get_kind_display()}) to {self.to_agency}"

    @property
    def audit_case_id(self) -> int:
        return self.case_id

    @property
    def is_overdue(self) -> bool:
        return self.status == ReferralStatus.SENT and self.respond_by < timezone.now()


def respond_by_for(urgency: str, sent_at: datetime.datetime, country: str) -> datetime.datetime:
    """Emergency: hours; urgent and routine: working days of the receiving agency's country."""
    if urgency == Urgency.EMERGENCY:
        return sent_at + datetime.timedelta(hours=settings.REFERRAL_EMERGENCY_HOURS)
    days = (
        settings.REFERRAL_URGENT_WORKING_DAYS
        if urgency == Urgency.URGENT
        else settings.REFERRAL_ROUTINE_WORKING_DAYS
    )
    return add_working_days(sent_at, days, country)


# --- NRM -------------------------------------------------------------------------------


class Decision(models.TextChoices):
    PENDING = "pending", _("Pending")
    POSITIVE = "positive", _("Positive")
    NEGATIVE = "negative", _("Negative")


class NRMReferralQuerySet(models.QuerySet["NRMReferral"]):
    def visible_to(self, user: Any, perm: str) -> NRMReferralQuerySet:
        """The NRM records ``user`` may ``perm`` (a superuser: all).

        - ``referrals.view_nrmreferral``: every NRM record of a case the user sees (its
          summary), for a role that works with the NRM. A first responder must see that a
          person was already referred before referring them again, and the NRM stage is
          part of the case's story, not of the person's identity.
        - ``referrals.change_nrmreferral``: of those, the records the user's agency made
          (``agency``) or whose case it now leads (after a lead transfer). The competent
          authority answers the referring first responder; the lead keeps the case's
          record true. No one else rewrites them, whatever else they see (issue 14).
        """
        if perm not in (VIEW_NRM, CHANGE_NRM):
            raise ValueError(f"NRM records are scoped by {VIEW_NRM} or {CHANGE_NRM}, not {perm!r}.")
        if access.is_superuser(user):
            return self.all()
        membership = access.active_membership(user)
        if membership is None or not access.role_may(membership.role, perm):
            return self.none()
        seen = self.filter(case__in=Case.objects.visible_to(user, VIEW_CASE).values("pk"))
        if perm == VIEW_NRM:
            return seen
        return seen.filter(
            models.Q(agency_id=membership.agency_id)
            | models.Q(case__lead_agency_id=membership.agency_id)
        )


class NRMReferral(models.Model):
    """A referral into the National Referral Mechanism by a first-responder agency."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="nrm_referrals")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    consent = models.ForeignKey(
        Consent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The adult's nrm_referral consent, or a child's safeguarding basis."),
    )
    competent_authority_reference = models.CharField(max_length=64, blank=True)
    rg_decision = models.CharField(
        max_length=16, choices=Decision.choices, default=Decision.PENDING
    )
    rg_decided_on = models.DateField(null=True, blank=True)
    cg_decision = models.CharField(
        max_length=16, choices=Decision.choices, default=Decision.PENDING
    )
    cg_decided_on = models.DateField(null=True, blank=True)
    support_allocated_at = models.DateTimeField(null=True, blank=True)
    support_contacted_at = models.DateTimeField(null=True, blank=True)

    objects = NRMReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return f"NRM referral {self.pk} on {self.case_id}"

    @property
    def audit_case_id(self) -> int:
        return self.case_id

    # Computed deadlines (DOMAIN.md, "National Referral Mechanism").

    @property
    def rg_due(self) -> datetime.datetime:
        return add_working_days(
            self.submitted_at, settings.NRM_RG_WORKING_DAYS, self.agency.country
        )

    @property
    def recovery_period_ends(self) -> datetime.date | None:
        if self.rg_decision != Decision.POSITIVE or self.rg_decided_on is None:
            return None
        return self.rg_decided_on + datetime.timedelta(days=settings.NRM_RECOVERY_DAYS)

    @property
    def reconsideration_deadline(self) -> datetime.date | None:
        if self.rg_decision != Decision.NEGATIVE or self.rg_decided_on is None:
            return None
        return self.rg_decided_on + datetime.timedelta(days=settings.NRM_RECONSIDERATION_DAYS)

    @property
    def support_contact_due(self) -> datetime.datetime | None:
        if self.support_allocated_at is None:
            return None
        return self.support_allocated_at + datetime.timedelta(
            hours=settings.NRM_SUPPORT_CONTACT_HOURS
        )


class DutyToNotify(models.Model):
    """Form MS1 (Modern Slavery Act 2015 s.52): filed by police and local authorities for
    an adult who does not consent to an NRM referral. It may be anonymous."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="duty_to_notify")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    anonymous = models.BooleanField(default=True)
    reference = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("duty to notify (MS1)")

    def __str__(self) -> str:
        return f"MS1 {self.pk} on {self.case_id}"

    @property
    def audit_case_id(self) -> int:
        return self.case_id
