"""Only its recipient marks a notification read; reading it again keeps the first time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from notifications import services
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_the_recipient_marks_it_read_once(caseworker, make_notification):
    notification = make_notification(caseworker)
    services.notification_mark_read(actor=caseworker, notification=notification)
    first = notification.read_at
    assert first is not None
    services.notification_mark_read(actor=caseworker, notification=notification)
    assert notification.read_at == first


@pytest.mark.parametrize("who", ["colleague", "other_agency", "anonymous", "nobody"])
def test_nobody_else_may_mark_it_read(
    who, caseworker, case_manager, other_agency_caseworker, make_notification
):
    actor = {
        "colleague": case_manager,
        "other_agency": other_agency_caseworker,
        "anonymous": AnonymousUser(),
        "nobody": None,
    }[who]
    notification = make_notification(caseworker)
    with pytest.raises(PermissionDenied):
        services.notification_mark_read(actor=actor, notification=notification)
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_all_read_touches_only_ones_own_unread(
    caseworker, other_agency_caseworker, make_notification
):
    earlier = timezone.now() - timedelta(days=1)
    read_before = make_notification(caseworker, read_at=earlier)
    mine = [make_notification(caseworker) for _ in range(2)]
    theirs = make_notification(other_agency_caseworker)

    assert services.notifications_mark_all_read(actor=caseworker) == 2
    assert all(Notification.objects.get(pk=n.pk).read_at for n in mine)
    assert Notification.objects.get(pk=read_before.pk).read_at == earlier
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert services.notifications_mark_all_read(actor=AnonymousUser()) == 0
