"""Export jobs: every table of a dashboard as CSV files in one ZIP, built by a worker.

A job records who asked, which dashboard (its kind and id, not its numbers) and the
filters as their query parameters (coded values: dates, an agency id, a region, an
exploitation type code). The worker rebuilds the scope from these and checks again that
the requester may still open the dashboard before counting anything (``exports``). The
file lives in the private storage, outside MEDIA_URL, and is served only to the
requester, through an audited view, until ``expires_at``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.storage import get_private_storage


class ScopeKind(models.TextChoices):
    PARTNERSHIP = "partnership", _("Partnership")
    AGENCY = "agency", _("Agency")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Being built")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ExportJobQuerySet(models.QuerySet["ExportJob"]):
    def of_requester(self, user: Any) -> ExportJobQuerySet:
        """The user's own jobs: nobody ever sees another person's export."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(requested_by_id=user.pk)

    def expired(self, now: datetime) -> ExportJobQuerySet:
        """Finished jobs whose file is past its time and still stored."""
        return self.filter(expires_at__lte=now).exclude(file="")


def export_path(instance: ExportJob, filename: str) -> str:
    # A name of the job's own: nothing of the dashboard's name or filters on disk.
    return f"exports/{instance.pk}/{filename}"


class ExportJob(models.Model):
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    scope_kind = models.CharField(max_length=16, choices=ScopeKind.choices)
    scope_id = models.PositiveBigIntegerField()
    # The filters as query parameters (``Filters.as_params``): coded values only.
    filters = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(
        upload_to=export_path, storage=get_private_storage, max_length=200, blank=True
    )
    # Why a job failed, in words for the requester (never a number of the dashboard).
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The file is deleted after this (beat's ``purge_expired_exports``) and no longer
    # served from it; null until the job is done.
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="export_job_progress_percent"
            )
        ]
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="export_job_mine")]

    def __str__(self) -> str:
        return f"Export {self.pk} of {self.scope_kind} {self.scope_id} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED)

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def downloadable(self) -> bool:
        return self.status == ExportStatus.DONE and bool(self.file) and not self.is_expired()
