"""Evidence access requests, break-glass openings and criminal-justice outcomes."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies import access
from agencies.models import Agency, Membership, Partnership, Role
from core.fields import EncryptedTextField

from ..permissions import DECIDE_EVIDENCE, REVIEW_BREAK_GLASS, VIEW_IDENTITY
from .case import Case, CaseChild
from .documents import Document
from .notes import CaseNote

# --- Evidence access and break-glass --------------------------------------------


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
    """Who reviews a break-glass, in the order the duty falls."""

    CASE_MANAGERS = "case_managers", _("The lead agency's case managers")
    AGENCY_ADMINS = "agency_admins", _("The lead agency's administrators")
    PARTNERSHIP_MANAGERS = "partnership_managers", _("The partnership's managers")


class BreakGlassGrounds(models.TextChoices):
    """Why the glass was broken, in the words a force's control room uses. Structured, so
    that reviewers who may not read the person's details (a partnership manager, the lead
    agency's administrators) still know what kind of emergency it was; the free-text reason
    is for those who may."""

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

    The one rule both ``casework.evidence.reads.break_glass_reviewers`` (one event, in Python)
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
      check on an agency is never that agency's own manager.

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

        The SQL twin of ``casework.evidence.reads.break_glass_reviewers``: the duty sits with
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
        administrators) sees the grounds and never the text. A
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
    (``BreakGlassEventQuerySet.to_review_by``, ``casework.evidence.reads.break_glass_reviewers``).
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


# --- Criminal justice ---------------------------------------------


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
