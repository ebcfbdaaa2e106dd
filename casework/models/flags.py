"""Safeguarding flags raised on a case."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import EncryptedTextField

from .case import Case, CaseChild


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
