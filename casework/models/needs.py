"""The person's support needs, triaged by urgency tier."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from core.fields import EncryptedTextField

from .case import Case, CaseChild


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
