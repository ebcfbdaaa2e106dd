"""Documents stored privately against a case, and the grants an approved evidence
request gives on them one by one."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.access import ScopedQuerySet
from agencies.models import AgencyGrant, UserGrant
from core.fields import EncryptedTextField

from ..storage import get_private_storage
from .case import Case, CaseChild


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


class DocumentAgencyGrant(AgencyGrant):
    content_object = models.ForeignKey(Document, on_delete=models.CASCADE)


class DocumentUserGrant(UserGrant):
    content_object = models.ForeignKey(Document, on_delete=models.CASCADE)
