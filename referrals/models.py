"""Referrals between agencies, and the National Referral Mechanism (NRM)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies import access
from agencies.models import Agency
from casework.models import Case, Consent
from casework.permissions import VIEW_CASE
from core.fields import EncryptedTextField

from . import jurisdictions
from .calendar import add_working_days, due_date, end_of_day
from .jurisdictions import Jurisdiction
from .permissions import CHANGE_NRM, VIEW_NRM

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


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
    # (``services.sharing_end_outside_partnerships``).
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


def respond_by_for(
    urgency: str, sent_at: datetime.datetime, country: str, subdivision: str = ""
) -> datetime.datetime:
    """Emergency: hours; urgent and routine: working days of the receiving agency's country
    (and nation, in the UK)."""
    if urgency == Urgency.EMERGENCY:
        return sent_at + datetime.timedelta(hours=settings.REFERRAL_EMERGENCY_HOURS)
    days = (
        settings.REFERRAL_URGENT_WORKING_DAYS
        if urgency == Urgency.URGENT
        else settings.REFERRAL_ROUTINE_WORKING_DAYS
    )
    return add_working_days(sent_at, days, country, subdivision)


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
          record true. No one else rewrites them, whatever else they see.
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
    # The adult's consent to NRM support, found when support is allocated: the support
    # provider's first-contact clock runs only with it (never for a child, whose support
    # is the local authority's).
    support_consent = models.ForeignKey(
        Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The person may leave the NRM at any time: the clocks stop, and a new referral can
    # be made later. The reason is the person's own words: encrypted.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawal_reason = EncryptedTextField(blank=True)

    objects = NRMReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return f"NRM referral {self.pk} on {self.case_id}"

    @property
    def audit_case_id(self) -> int:
        return self.case_id

    # Computed deadlines (DOMAIN.md, "National Referral Mechanism"), by the rules of the
    # referring agency's jurisdiction (``referrals.jurisdictions``).

    @property
    def jurisdiction(self) -> Jurisdiction | None:
        return jurisdictions.for_agency(self.agency)

    @property
    def rg_due(self) -> datetime.date:
        """The Reasonable Grounds target: a date, counted in working days from the day the
        referral is received (the next working day after a weekend or holiday)."""
        return due_date(
            self.submitted_at,
            settings.NRM_RG_WORKING_DAYS,
            self.agency.country,
            self.agency.subdivision,
        )

    @property
    def rg_due_at(self) -> datetime.datetime:
        """The end of the ``rg_due`` day: when the clock has passed."""
        return end_of_day(self.rg_due)

    @property
    def recovery_days(self) -> int:
        rules = self.jurisdiction
        return rules.recovery_days if rules is not None else settings.NRM_RECOVERY_DAYS

    @property
    def recovery_period_ends(self) -> datetime.date | None:
        if self.rg_decision != Decision.POSITIVE or self.rg_decided_on is None:
            return None
        return self.rg_decided_on + datetime.timedelta(days=self.recovery_days)

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def reconsideration_days(self) -> int:
        rules = self.jurisdiction
        return rules.reconsideration_days if rules else settings.NRM_RECONSIDERATION_DAYS

    def _reconsiderations(self) -> list[NRMReconsideration]:
        # An unsaved record (a what-if of the clocks) has none.
        return list(self.reconsiderations.all()) if self.pk is not None else []

    def reconsideration_of(self, stage: str) -> NRMReconsideration | None:
        """The reconsideration asked for the stage's decision (one per stage), read from
        the prefetched rows where the caller prefetched them."""
        for row in self._reconsiderations():
            if row.stage == stage:
                return row
        return None

    @property
    def reconsideration_pending(self) -> NRMReconsideration | None:
        for row in self._reconsiderations():
            if row.outcome == ReconsiderationOutcome.PENDING:
                return row
        return None

    @property
    def reconsideration_stage(self) -> str | None:
        """The negative decision that may be reconsidered now: the CG one, else the RG one;
        None once a reconsideration of it was asked (its outcome is the final decision)."""
        if self.is_withdrawn:
            return None
        if self.cg_decision == Decision.NEGATIVE and self.cg_decided_on is not None:
            stage = Stage.CG
        elif self.rg_decision == Decision.NEGATIVE and self.rg_decided_on is not None:
            stage = Stage.RG
        else:
            return None
        return None if self.reconsideration_of(stage) is not None else stage

    @property
    def reconsideration_deadline(self) -> datetime.date | None:
        """The last day to ask for a negative decision, RG or CG, to be reconsidered."""
        stage = self.reconsideration_stage
        if stage is None:
            return None
        decided_on = self.cg_decided_on if stage == Stage.CG else self.rg_decided_on
        assert decided_on is not None  # reconsideration_stage names only a decided stage
        return decided_on + datetime.timedelta(days=self.reconsideration_days)

    @property
    def support_ends_on(self) -> datetime.date | None:
        """Support after the Conclusive Grounds decision: move-on support for the
        jurisdiction's days after a positive one, working days after a negative one. None
        while the CG decision is pending (support goes on until it)."""
        rules = self.jurisdiction
        if rules is None or self.cg_decided_on is None or self.is_withdrawn:
            return None
        pending = self.reconsideration_pending
        if pending is not None and pending.stage == Stage.CG:
            return None  # support goes on while a negative CG decision is reconsidered
        if self.cg_decision == Decision.POSITIVE:
            return self.cg_decided_on + datetime.timedelta(days=rules.move_on_positive_days)
        if self.cg_decision == Decision.NEGATIVE:
            return due_date(
                end_of_day(self.cg_decided_on),
                rules.move_on_negative_working_days,
                self.agency.country,
                self.agency.subdivision,
            )
        return None

    @property
    def support_contact_due(self) -> datetime.datetime | None:
        if self.support_allocated_at is None or self.support_consent_id is None:
            return None
        return self.support_allocated_at + datetime.timedelta(
            hours=settings.NRM_SUPPORT_CONTACT_HOURS
        )

    def clocks(self) -> list[tuple[str, StrOrPromise, datetime.datetime]]:
        """The running clocks as (kind, label, end): what the deadlines page lists and the
        reminders watch. None once the person has withdrawn from the NRM."""
        if self.is_withdrawn:
            return []
        found: list[tuple[str, StrOrPromise, datetime.datetime]] = []
        if self.rg_decision == Decision.PENDING:
            found.append(("rg_due", _("Reasonable Grounds decision due"), self.rg_due_at))
        if self.recovery_period_ends and self.cg_decision == Decision.PENDING:
            found.append(
                ("recovery_ends", _("Recovery period ends"), end_of_day(self.recovery_period_ends))
            )
        if self.reconsideration_deadline:
            found.append(
                (
                    "reconsideration",
                    _("Last day to ask for reconsideration"),
                    end_of_day(self.reconsideration_deadline),
                )
            )
        if self.support_ends_on:
            found.append(
                ("support_ends", _("Move-on support ends"), end_of_day(self.support_ends_on))
            )
        if self.support_contact_due and self.support_contacted_at is None:
            found.append(
                (
                    "support_contact",
                    _("Support provider's first contact due"),
                    self.support_contact_due,
                )
            )
        return found


class Stage(models.TextChoices):
    RG = "rg", _("Reasonable Grounds")
    CG = "cg", _("Conclusive Grounds")


class Requester(models.TextChoices):
    PERSON = "person", _("The person")
    REPRESENTATIVE = "representative", _("Their legal representative")
    FIRST_RESPONDER = "first_responder", _("The first responder")
    SUPPORT_PROVIDER = "support_provider", _("Their support provider")


class ReconsiderationOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting for the competent authority")
    UPHELD = "upheld", _("Negative decision upheld")
    OVERTURNED = "overturned", _("Overturned: positive decision")


class NRMReconsideration(models.Model):
    """A request that the competent authority reconsider a negative RG or CG decision: who
    asked, when, on what grounds, whether an extension of the window was granted, and its
    outcome. The outcome is the final decision: its date moves the NRM's clocks (the
    original date stays here)."""

    nrm = models.ForeignKey(NRMReferral, on_delete=models.CASCADE, related_name="reconsiderations")
    stage = models.CharField(max_length=2, choices=Stage.choices)
    original_decided_on = models.DateField()
    requested_on = models.DateField()
    requested_by = models.CharField(max_length=24, choices=Requester.choices)
    grounds = EncryptedTextField()
    extension_granted = models.BooleanField(default=False)
    extension_reason = EncryptedTextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(
        max_length=16,
        choices=ReconsiderationOutcome.choices,
        default=ReconsiderationOutcome.PENDING,
    )
    outcome_on = models.DateField(null=True, blank=True)
    outcome_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["requested_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["nrm", "stage"], name="nrm_one_reconsideration_per_stage"
            )
        ]

    def __str__(self) -> str:
        return f"Reconsideration of {self.stage} on NRM {self.nrm_id}"

    @property
    def audit_case_id(self) -> int:
        return self.nrm.case_id


class NRMDecline(models.Model):
    """An adult declined an NRM referral. Where the agency is under the duty to notify,
    the lead caseworker gets a task to file an MS1."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="nrm_declines")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("NRM referral declined")

    def __str__(self) -> str:
        return f"NRM declined on {self.case_id}"

    @property
    def audit_case_id(self) -> int:
        return self.case_id


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
