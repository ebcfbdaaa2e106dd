"""notify() writes the outbox in the caller's transaction and queues delivery on commit."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError

from agencies.models import Role
from agencies.tests.factories import member
from notifications import services
from notifications.models import Notification
from notifications.tasks import deliver_notification

pytestmark = pytest.mark.django_db

MESSAGE = "A new urgent referral is waiting for Northshire Council"


class Boom(Exception):
    pass


def _notify(recipients, target, dedup_key="referral:12:received", **overrides):
    arguments = {
        "recipients": recipients,
        "kind": "referral.received",
        "target": target,
        "message": MESSAGE,
        "url": "/referrals/12/",
        "dedup_key": dedup_key,
        **overrides,
    }
    return services.notify(**arguments)


@pytest.fixture
def queued(monkeypatch):
    """The ids passed to deliver_notification.delay (instead of running the task)."""
    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(deliver_notification, "delay", lambda *args: calls.append(args))
    return calls


def test_one_row_per_recipient_and_the_same_event_never_twice(
    caseworker, case_manager, harbour, django_capture_on_commit_callbacks, queued
):
    with django_capture_on_commit_callbacks(execute=True):
        first = _notify([caseworker, case_manager, caseworker], harbour)
    with django_capture_on_commit_callbacks(execute=True):
        _notify([caseworker, case_manager], harbour)

    rows = Notification.objects.order_by("recipient__username")
    assert [n.recipient.username for n in rows] == ["alice", "bob"]
    assert {n.pk for n in first} == {n.pk for n in rows}
    row = rows[0]
    assert (row.kind, row.target_type, row.target_id) == (
        "referral.received",
        "agencies.agency",
        str(harbour.pk),
    )
    assert (row.message, row.url, row.attempts) == (MESSAGE, "/referrals/12/", 0)
    assert row.delivered_at is row.read_at is row.claimed_at is row.email_sent_at is None


def test_a_different_event_is_a_different_row(caseworker, harbour, queued):
    _notify([caseworker], harbour, dedup_key="referral:12:received")
    _notify([caseworker], harbour, dedup_key="referral:13:received")
    assert Notification.objects.filter(recipient=caseworker).count() == 2


def test_inactive_users_are_skipped(caseworker, harbour, queued):
    gone = member(harbour, Role.CASEWORKER, username="gone")
    gone.is_active = False
    gone.save()
    assert _notify([gone], harbour) == []
    rows = _notify([caseworker, gone], harbour)
    assert [n.recipient_id for n in rows] == [caseworker.pk]
    assert not Notification.objects.filter(recipient=gone).exists()


def test_exactly_one_task_per_new_row_with_its_id_only(
    caseworker, case_manager, harbour, django_capture_on_commit_callbacks, queued
):
    with django_capture_on_commit_callbacks() as callbacks:
        rows = _notify([caseworker, case_manager], harbour)
    assert len(callbacks) == 2
    assert queued == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert sorted(queued) == sorted((n.pk,) for n in rows)
    assert all(isinstance(pk, int) for (pk,) in queued)


def test_delivered_rows_are_not_queued_again(
    caseworker, harbour, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        _notify([caseworker], harbour)  # eager in unit tests: delivered at once
    assert len(mailoutbox) == 1
    with django_capture_on_commit_callbacks() as callbacks:
        assert _notify([caseworker], harbour) == []
    assert callbacks == []


def test_on_commit_delivers_in_app_and_by_email(
    caseworker, harbour, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        [row] = _notify([caseworker], harbour)
    row.refresh_from_db()
    assert row.delivered_at is not None and row.email_sent_at is not None
    assert [m.to for m in mailoutbox] == [[caseworker.email]]


def test_a_rolled_back_transaction_leaves_no_row_and_sends_nothing(
    caseworker, harbour, django_capture_on_commit_callbacks, mailoutbox, queued
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        _notify([caseworker], harbour)
        raise Boom
    assert callbacks == []
    assert queued == []
    assert not Notification.objects.exists()
    assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_notify_refuses_to_run_outside_a_transaction(caseworker, harbour, queued):
    with pytest.raises(TransactionManagementError):
        _notify([caseworker], harbour)  # autocommit: the row could outlive a failed event
    assert not Notification.objects.exists()
    with transaction.atomic():
        assert len(_notify([caseworker], harbour)) == 1
    assert len(queued) == 1  # queued once the transaction committed


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "https://evil.example.org/"),
        ("url", "//evil.example.org/"),
        ("url", "referrals/12/"),
        ("url", "/\\evil.example.org/"),
        ("url", "/referrals/12/\tjavascript:alert(1)"),
        ("message", "  \n "),
    ],
)
def test_links_stay_in_concord_and_a_message_is_needed(caseworker, harbour, field, value, queued):
    with pytest.raises(ValueError):
        _notify([caseworker], harbour, **{field: value})
    assert not Notification.objects.exists()


def test_messages_become_one_short_line(caseworker, harbour, queued):
    [row] = _notify(
        [caseworker], harbour, dedup_key="a", message="Line one\r\nBcc: someone@example.org"
    )
    assert row.message == "Line one Bcc: someone@example.org"
    [row] = _notify([caseworker], harbour, dedup_key="b", message="x" * 250)
    assert len(row.message) == 200 and row.message.endswith("…")


def test_notify_agency_reaches_active_members_optionally_by_role(
    harbour, council, caseworker, case_manager, agency_admin, other_agency_caseworker, queued
):
    gone = member(harbour, Role.CASEWORKER, username="gone")
    gone.is_active = False
    gone.save()

    everyone = services.notify_agency(
        agency=harbour,
        roles=None,
        kind="referral.received",
        target=harbour,
        message=MESSAGE,
        url="/referrals/12/",
        dedup_key="referral:12:received",
    )
    assert {n.recipient.username for n in everyone} == {"alice", "bob", "harbour-admin"}

    managers = services.notify_agency(
        agency=harbour,
        roles=[Role.CASE_MANAGER],
        kind="referral.overdue",
        target=harbour,
        message="A referral is overdue",
        url="/referrals/12/",
        dedup_key="referral:12:overdue",
    )
    assert [n.recipient.username for n in managers] == ["bob"]
    assert not Notification.objects.filter(recipient=other_agency_caseworker).exists()


def test_an_inactive_agency_is_not_notified(harbour, caseworker, queued):
    harbour.active = False
    harbour.save()
    rows = services.notify_agency(
        agency=harbour,
        roles=None,
        kind="referral.received",
        target=harbour,
        message=MESSAGE,
        url="/referrals/12/",
        dedup_key="referral:12:received",
    )
    assert rows == []
