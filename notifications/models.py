"""The notification outbox: events, and each person's notifications (their in-app inbox).

A ``NotificationEvent`` is one small row written in the transaction that causes the
event: who is to hear of it (people, or an agency's members in some roles) and what to
tell them. After the commit a worker expands it into one ``Notification`` per person and
delivers those (email). ``delivered_at`` says delivery is done; ``claimed_at`` is the
lease of the worker delivering it now (DESIGN.md, "Notifications (Celery + Redis)";
README, "Performance", for why the fan-out is not done in the request).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NotificationEvent(models.Model):
    """Something people are to be told about, waiting to be expanded into notifications."""

    kind = models.CharField(max_length=64)
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=64)
    message = models.CharField(max_length=200)
    url = models.CharField(max_length=500)
    dedup_key = models.CharField(max_length=200)
    # Either these people...
    recipient_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    # ...or the active members of this agency (in these roles; all roles when empty).
    agency = models.ForeignKey(
        "agencies.Agency", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    roles = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expanded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The requeue scan touches only the (few) events not yet expanded.
            models.Index(
                fields=["created_at"],
                condition=models.Q(expanded_at__isnull=True),
                name="notification_event_pending",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(agency__isnull=False) & ~models.Q(recipient_ids=[])),
                name="notification_event_one_audience",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.dedup_key})"


# The name of reading a notification, for the audit trail of a refused attempt.
VIEW_NOTIFICATION = "notifications.view_notification"


class NotificationQuerySet(models.QuerySet["Notification"]):
    def for_recipient(self, user: Any) -> NotificationQuerySet:
        """The user's own notifications: nobody ever sees anyone else's."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(recipient_id=user.pk)

    def visible_to(self, user: Any, perm: str = VIEW_NOTIFICATION) -> NotificationQuerySet:
        """The scoping entry point (``access.get_visible_or_404``): a notification is its
        recipient's alone, whatever the role (no capability decides it; ``perm`` only
        names the reading in the trail)."""
        return self.for_recipient(user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)

    def claimable(self, *, now: datetime, lease: timedelta) -> NotificationQuerySet:
        """Undelivered rows that no worker holds a live claim on."""
        return self.filter(delivered_at__isnull=True).filter(
            models.Q(claimed_at__isnull=True) | models.Q(claimed_at__lt=now - lease)
        )

    def stale(self, *, now: datetime, lease: timedelta, grace: timedelta) -> NotificationQuerySet:
        """Claimable rows older than ``grace``: their on-commit task is presumed lost."""
        return self.claimable(now=now, lease=lease).filter(created_at__lt=now - grace)


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=64, help_text=_("e.g. referral.received"))
    # What the notification is about, spelled as in the audit trail.
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=64)
    # Shown in the inbox and used as the email's subject: never personal data.
    message = models.CharField(_("message"), max_length=200)
    url = models.CharField(_("link"), max_length=500, help_text=_("A path in Concord."))
    # The same event never makes two rows for one person.
    dedup_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedup_key"], name="notification_once_per_recipient"
            )
        ]
        indexes = [
            # The inbox and the unread count in every page's header.
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox"),
            # The requeue scan touches only the (few) undelivered rows.
            models.Index(
                fields=["created_at"],
                condition=models.Q(delivered_at__isnull=True),
                name="notification_undelivered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for user {self.recipient_id}"
