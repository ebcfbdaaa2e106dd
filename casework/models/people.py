"""Who the person is and where they stay: the case's personal data, each with its own
permissions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import blind_index
from core.fields import (
    EncryptedArrayField,
    EncryptedDateField,
    EncryptedEmailField,
    EncryptedTextField,
)

from .case import Case, CaseChild


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
    """That the person on ``case`` may be the person on a case another agency leads:
    one row per side, found by blind index. The side's readers learn the other
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
