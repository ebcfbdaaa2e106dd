"""notify() writes one event in the caller's transaction; after the commit a task expands
it into a notification per person and delivers them."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError

from agencies.models import Role
from agencies.tests.factories import member
from notifications import publish, services
from notifications.models import Notification, NotificationEvent
from notifications.tasks import deliver_notification, expand_notification_event

pytestmark = pytest.mark.django_db

MESSAGE = "A new urgent referral is waiting for Northshire Council"


class Boom(Exception):
    pass


def _arguments(target, dedup_key="referral:12:received", **overrides):
    return {
        "kind": "referral.received",
        "target": target,
        "message": MESSAGE,
        "url": "/referrals/12/",
        "dedup_key": dedup_key,
        **overrides,
    }


def _notify(recipients, target, dedup_key="referral:12:received", **overrides):
    return services.notify(recipients=recipients, **_arguments(target, dedup_key, **overrides))


def _rows(dedup_key="referral:12:received"):
    return list(Notification.objects.filter(dedup_key=dedup_key).order_by("recipient__username"))


@pytest.fixture
def queued(monkeypatch):
    """The arguments passed to expand_notification_event.delay (instead of running it)."""
    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(expand_notification_event, "delay", lambda *args: calls.append(args))
    return calls


def test_the_request_writes_one_event_row_and_nothing_else(
    caseworker, case_manager, harbour, django_assert_num_queries, queued
):
    with transaction.atomic(), django_assert_num_queries(1):
        services.notify_agency(agency=harbour, roles=None, **_arguments(harbour))
    event = NotificationEvent.objects.get()
    assert (event.agency, event.roles, event.recipient_ids) == (harbour, [], [])
    assert not Notification.objects.exists()  # people are worked out after the commit


def test_one_row_per_recipient_and_the_same_event_never_twice(
    caseworker, case_manager, harbour, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _notify([caseworker, case_manager, caseworker], harbour)
    with django_capture_on_commit_callbacks(execute=True):
        _notify([caseworker, case_manager], harbour)

    rows = _rows()
    assert [n.recipient.username for n in rows] == ["alice", "bob"]
    row = rows[0]
    assert (row.kind, row.target_type, row.target_id) == (
        "referral.received",
        "agencies.agency",
        str(harbour.pk),
    )
    assert (row.message, row.url, row.attempts) == (MESSAGE, "/referrals/12/", 1)
    assert row.read_at is None and row.delivered_at is not None  # eager: delivered at once
    assert NotificationEvent.objects.filter(expanded_at__isnull=True).count() == 0


def test_a_different_event_is_a_different_row(
    caseworker, harbour, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _notify([caseworker], harbour, dedup_key="referral:12:received")
        _notify([caseworker], harbour, dedup_key="referral:13:received")
    assert Notification.objects.filter(recipient=caseworker).count() == 2


def test_inactive_users_are_skipped(caseworker, harbour, django_capture_on_commit_callbacks):
    gone = member(harbour, Role.CASEWORKER, username="gone")
    gone.is_active = False
    gone.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert _notify([gone], harbour) is None
        _notify([caseworker, gone], harbour)
    assert [n.recipient_id for n in _rows()] == [caseworker.pk]


def test_someone_deactivated_before_the_expansion_is_not_told(
    caseworker, case_manager, harbour, django_capture_on_commit_callbacks, queued
):
    with django_capture_on_commit_callbacks(execute=True):
        event = _notify([caseworker, case_manager], harbour)
    case_manager.is_active = False
    case_manager.save()
    services.notification_event_expand(event_id=event.pk)
    assert [n.recipient_id for n in _rows()] == [caseworker.pk]


def test_exactly_one_task_per_event_with_its_id_only(
    caseworker, case_manager, harbour, django_capture_on_commit_callbacks, queued
):
    with django_capture_on_commit_callbacks() as callbacks:
        event = _notify([caseworker, case_manager], harbour)
    assert len(callbacks) == 1
    assert queued == []  # nothing leaves before the commit
    callbacks[0]()
    assert queued == [(event.pk,)]


def test_expanding_twice_makes_nothing_twice(
    caseworker, case_manager, harbour, django_capture_on_commit_callbacks, queued, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        event = _notify([caseworker, case_manager], harbour)
    first = services.notification_event_expand(event_id=event.pk)
    assert len(first) == 2
    assert services.notification_event_expand(event_id=event.pk) == []
    assert services.notification_event_expand(event_id=987654) == []
    expand_notification_event(event.pk)  # a redelivered message: nothing left to do
    assert len(_rows()) == 2 and mailoutbox == []


def test_one_failing_delivery_is_retried_alone_and_the_others_go_on(
    caseworker, case_manager, harbour, django_capture_on_commit_callbacks, monkeypatch, queued
):
    with django_capture_on_commit_callbacks(execute=True):
        event = _notify([caseworker, case_manager], harbour)  # queued, not run
    failing: list[int] = []
    real = services.notification_deliver

    def deliver(*, notification_id):
        if not failing:
            failing.append(notification_id)
            raise ConnectionRefusedError("mail server down")
        return real(notification_id=notification_id)

    retried: list[tuple[object, ...]] = []
    monkeypatch.setattr(services, "notification_deliver", deliver)
    monkeypatch.setattr(deliver_notification, "delay", lambda *args: retried.append(args))
    expand_notification_event(event.pk)
    assert retried == [(failing[0],)]
    delivered = set(
        Notification.objects.filter(delivered_at__isnull=False).values_list("pk", flat=True)
    )
    assert len(delivered) == 1 and failing[0] not in delivered


def test_delivered_rows_are_not_delivered_again(
    caseworker, harbour, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        _notify([caseworker], harbour)  # eager in unit tests: delivered at once
    assert len(mailoutbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        _notify([caseworker], harbour)
    assert len(mailoutbox) == 1


def test_on_commit_delivers_in_app_and_by_email(
    caseworker, harbour, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        _notify([caseworker], harbour)
    [row] = _rows()
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
    assert not NotificationEvent.objects.exists() and not Notification.objects.exists()
    assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_notify_refuses_to_run_outside_a_transaction(caseworker, harbour, queued):
    with pytest.raises(TransactionManagementError):
        _notify([caseworker], harbour)  # autocommit: the row could outlive a failed event
    with pytest.raises(TransactionManagementError):
        services.notify_agency(agency=harbour, roles=None, **_arguments(harbour))
    assert not NotificationEvent.objects.exists()
    with transaction.atomic():
        event = _notify([caseworker], harbour)
    assert queued == [(event.pk,)]  # queued once the transaction committed


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
    with pytest.raises(ValueError), transaction.atomic():
        _notify([caseworker], harbour, **{field: value})
    assert not NotificationEvent.objects.exists()


def test_messages_become_one_short_line(caseworker, harbour, queued):
    with transaction.atomic():
        event = _notify(
            [caseworker], harbour, dedup_key="a", message="Line one\r\nBcc: someone@example.org"
        )
        assert event.message == "Line one Bcc: someone@example.org"
        event = _notify([caseworker], harbour, dedup_key="b", message="x" * 250)
        assert len(event.message) == 200 and event.message.endswith("…")


def test_notify_agency_reaches_active_members_optionally_by_role(
    harbour,
    council,
    caseworker,
    case_manager,
    agency_admin,
    other_agency_caseworker,
    django_capture_on_commit_callbacks,
):
    gone = member(harbour, Role.CASEWORKER, username="gone")
    gone.is_active = False
    gone.save()

    with django_capture_on_commit_callbacks(execute=True):
        services.notify_agency(agency=harbour, roles=None, **_arguments(harbour))
        services.notify_agency(
            agency=harbour,
            roles=[Role.CASE_MANAGER],
            **_arguments(harbour, "referral:12:overdue", message="A referral is overdue"),
        )
    assert {n.recipient.username for n in _rows()} == {"alice", "bob", "harbour-admin"}
    assert [n.recipient.username for n in _rows("referral:12:overdue")] == ["bob"]
    assert not Notification.objects.filter(recipient=other_agency_caseworker).exists()


def test_an_inactive_agency_is_not_notified(harbour, caseworker, queued):
    harbour.active = False
    harbour.save()
    with transaction.atomic():
        assert services.notify_agency(agency=harbour, roles=None, **_arguments(harbour)) is None
        assert services.notify_agency(agency=harbour, roles=[], **_arguments(harbour)) is None
    assert not NotificationEvent.objects.exists()


@pytest.fixture
def not_eager():
    conf = expand_notification_event.app.conf
    saved = conf.task_always_eager
    conf.update(task_always_eager=False)
    yield
    conf.update(task_always_eager=saved)


def test_outside_eager_mode_a_background_thread_publishes_and_is_drained_at_exit(
    not_eager, monkeypatch
):
    published: list[int] = []
    monkeypatch.setattr(publish, "_publish", published.append)
    publish.expand_later(41)
    publish.expand_later(42)
    publish.flush()
    assert published == [41, 42]
    assert publish._thread is None  # stopped; the next event starts a new one
    publish.expand_later(43)
    publish.flush()
    assert published == [41, 42, 43]


def test_a_failed_publish_is_logged_and_left_to_the_requeue(not_eager, monkeypatch, caplog):
    def broker_down(event_id: int) -> None:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(publish, "_publish", broker_down)
    publish.expand_later(44)
    publish.flush()
    assert "Could not queue notification event 44" in caplog.text
