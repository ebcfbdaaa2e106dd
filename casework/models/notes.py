"""Notes on a case, their earlier texts, and the grants an approved evidence request
gives on them one by one."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.access import ScopedQuerySet
from agencies.models import Agency, AgencyGrant, UserGrant
from core.fields import EncryptedTextField

from .case import Case, CaseChild


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


class CaseNoteAgencyGrant(AgencyGrant):
    content_object = models.ForeignKey(CaseNote, on_delete=models.CASCADE)


class CaseNoteUserGrant(UserGrant):
    content_object = models.ForeignKey(CaseNote, on_delete=models.CASCADE)
