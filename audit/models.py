"""The audit trail: one append-only row per sensitive read, grant, decision or failure."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def for_target(self, obj: models.Model) -> AuditEventQuerySet:
        return self.filter(target_type=obj._meta.label_lower, target_id=str(obj.pk))


class AuditEvent(models.Model):
    """Who did what to which record, from where, and why.

    Rows are written through ``audit.record`` only. On PostgreSQL a trigger (migrations
    0002, 0003) refuses UPDATE and DELETE, so not even a bug in Concord can rewrite
    history; the one UPDATE it lets through is the sealing of a row into the chain.
    Foreign keys are PROTECT: a user or agency with history is deactivated, not deleted.
    """

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_agency = models.ForeignKey(
        "agencies.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # The tamper-evident chain: set once, when the row is sealed (``audit.chain``,
    # within a minute of its commit): its place in the chain and a SHA-256 over its content
    # and the previous row's hash. The append-only trigger lets nothing else change.
    chain_seq = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    chain_hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    # Not a column: the event in words, set on loaded events by a page that shows them
    # (casework.evidence.reads.describe_reads) and read only by that page.
    what: str

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            models.Index(
                fields=["id"], name="audit_unsealed_idx", condition=models.Q(chain_seq__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        when = f"{self.occurred_at:%Y-%m-%d %H:%M:%S}"
        return f"{when} {self.action} {self.target_type}:{self.target_id}"
