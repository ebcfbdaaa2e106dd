"""Tasks Concord asks an agency to do on a case."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies import access
from agencies.models import Agency

from ..permissions import VIEW_CASE
from .case import Case, CaseChild


class CaseTaskKind(models.TextChoices):
    TURNED_ADULT = "turned_adult", _("The person has turned 18: adult consent rules now apply")
    FILE_MS1 = "file_ms1", _("Adult declined an NRM referral: file a Duty to Notify (MS1)")


class CaseTaskQuerySet(models.QuerySet["CaseTask"]):
    def open(self) -> CaseTaskQuerySet:
        return self.filter(done_at__isnull=True)

    def visible_to(self, user: Any, perm: str = VIEW_CASE) -> CaseTaskQuerySet:
        """The tasks ``user`` sees: those of their own agency on cases they may ``perm``
        (``VIEW_CASE``). A task is its agency's work: another agency that sees the case
        does not see it (404 at both doors)."""
        if access.is_superuser(user):
            return self.all()
        membership = access.active_membership(user)
        if membership is None:
            return self.none()
        return self.filter(
            agency_id=membership.agency_id,
            case__in=Case.objects.visible_to(user, perm).values("pk"),
        )


class CaseTask(CaseChild):
    """Something Concord asks an agency to do on a case (the person turned 18, an adult
    declined an NRM referral). Opened by the system (``casework.case_tasks.task_open``),
    marked done by a member of its agency (``task_complete``)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    # Whose task it is: the lead agency when it was opened, unless the opener said.
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=CaseTaskKind.choices)
    # What opened it, as ids ("nrm_decline:12"): never personal data.
    reason_key = models.CharField(max_length=64, blank=True)
    due_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = CaseTaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            # task_open is idempotent: one open task of a kind per case, even when two
            # openings race.
            models.UniqueConstraint(
                fields=["case", "kind"],
                condition=models.Q(done_at__isnull=True),
                name="one_open_task_per_kind",
            ),
        ]
        indexes = [
            models.Index(
                fields=["agency", "due_on"],
                condition=models.Q(done_at__isnull=True),
                name="case_task_open_by_agency",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} task on {self.case_id}"

    @property
    def is_open(self) -> bool:
        return self.done_at is None

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_on < timezone.localdate()
