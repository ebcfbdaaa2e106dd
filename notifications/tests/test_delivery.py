"""deliver_notification is idempotent: claimed with one conditional UPDATE, sent once."""

from __future__ import annotations

from datetime import timedelta
from smtplib import SMTPException, SMTPServerDisconnected

import pytest
from django.utils import timezone

from notifications import services
from notifications.models import Notification
from notifications.tasks import deliver_notification

pytestmark = pytest.mark.django_db

LEASE = timedelta(seconds=300)


@pytest.fixture(autouse=True)
def _lease(settings):
    settings.NOTIFICATION_CLAIM_LEASE_SECONDS = int(LEASE.total_seconds())
    settings.CONCORD_BASE_URL = "https://concord.example.org"


def test_delivering_twice_sends_one_email(caseworker, make_notification, mailoutbox):
    notification = make_notification(caseworker)
    deliver_notification(notification.pk)
    deliver_notification.delay(notification.pk)  # eager in unit tests: runs here
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.delivered_at is not None
    assert notification.email_sent_at is not None
    assert notification.attempts == 1  # the second run found it delivered and stopped


def test_the_email_holds_the_message_and_a_link_and_no_personal_data(
    caseworker, harbour, make_notification, mailoutbox
):
    notification = make_notification(caseworker, url="/referrals/12/")
    deliver_notification(notification.pk)
    [email] = mailoutbox
    assert email.to == [caseworker.email]
    assert email.subject == "Concord: A new urgent referral is waiting for Northshire Council"
    assert email.body == (
        "A new urgent referral is waiting for Northshire Council\n\n"
        "Open Concord to see it: https://concord.example.org/referrals/12/"
    )
    person = [caseworker.username, caseworker.first_name, caseworker.last_name, harbour.name]
    for text in (email.subject, email.body):
        for item in person:
            assert item not in text


def test_a_fresh_claim_by_another_worker_is_left_alone(caseworker, make_notification, mailoutbox):
    claimed_at = timezone.now()
    notification = make_notification(caseworker, claimed_at=claimed_at, attempts=1)
    deliver_notification(notification.pk)
    assert mailoutbox == []
    notification.refresh_from_db()
    assert notification.delivered_at is None
    assert (notification.claimed_at, notification.attempts) == (claimed_at, 1)


def test_a_claim_older_than_the_lease_is_taken_over(caseworker, make_notification, mailoutbox):
    dead_claim = timezone.now() - LEASE - timedelta(seconds=1)
    notification = make_notification(caseworker, claimed_at=dead_claim, attempts=1)
    deliver_notification(notification.pk)
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.delivered_at is not None
    assert notification.claimed_at > dead_claim
    assert notification.attempts == 2


def test_an_email_already_sent_is_not_sent_again(caseworker, make_notification, mailoutbox):
    # A worker died after recording the send but before marking the row delivered.
    sent_at = timezone.now() - timedelta(minutes=10)
    notification = make_notification(caseworker, email_sent_at=sent_at)
    deliver_notification(notification.pk)
    assert mailoutbox == []
    notification.refresh_from_db()
    assert notification.delivered_at is not None
    assert notification.email_sent_at == sent_at


def test_no_address_or_a_deactivated_account_is_delivered_in_app_only(
    caseworker, case_manager, make_notification, mailoutbox
):
    caseworker.email = ""
    caseworker.save()
    case_manager.is_active = False
    case_manager.save()
    rows = [make_notification(caseworker), make_notification(case_manager)]
    for row in rows:
        deliver_notification(row.pk)
        row.refresh_from_db()
        assert row.delivered_at is not None
        assert row.email_sent_at is None
    assert mailoutbox == []


def test_a_missing_row_is_nothing_to_do(mailoutbox):
    deliver_notification(987654)
    assert mailoutbox == []


def test_a_refused_send_releases_the_claim_for_the_retry(
    caseworker, make_notification, mailoutbox, settings
):
    settings.EMAIL_BACKEND = "notifications.tests.backends.RefusingEmailBackend"
    notification = make_notification(caseworker)
    with pytest.raises(SMTPServerDisconnected):
        services.notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.claimed_at is None  # the task's retry may claim it at once
    assert notification.attempts == 1
    assert notification.email_sent_at is None and notification.delivered_at is None

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.notification_deliver(notification_id=notification.pk) is True
    assert len(mailoutbox) == 1


def test_the_task_acks_late_and_retries_mail_errors_with_backoff():
    task = deliver_notification
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
    assert SMTPException in task.autoretry_for and OSError in task.autoretry_for
    assert task.retry_backoff and task.max_retries


def test_claiming_is_one_conditional_update(
    caseworker, make_notification, django_assert_num_queries
):
    notification = make_notification(caseworker, delivered_at=timezone.now())
    with django_assert_num_queries(1):  # the UPDATE matches nothing: stop there
        assert services.notification_deliver(notification_id=notification.pk) is False
    assert Notification.objects.get(pk=notification.pk).attempts == 0


def test_an_email_sent_again_after_a_lost_record_has_the_same_message_id(
    caseworker, make_notification, mailoutbox
):
    """A worker killed between the mail server's accept and ``email_sent_at`` sends the
    email again once its claim expires; the repeat carries the same Message-ID, so mail
    systems that collapse repeats show it once. Another notification has its own."""
    notification = make_notification(caseworker)
    deliver_notification(notification.pk)
    # As if the first worker died before recording the send: the row is claimable again.
    Notification.objects.filter(pk=notification.pk).update(
        email_sent_at=None, delivered_at=None, claimed_at=None
    )
    deliver_notification(notification.pk)
    other = make_notification(caseworker, dedup_key="another")
    deliver_notification(other.pk)
    first, repeat, another = (email.message()["Message-ID"] for email in mailoutbox)
    assert first == repeat == services.message_id(notification)
    assert first.startswith(f"<concord.notification.{notification.pk}.")
    assert first.endswith("@concord.example.org>")
    assert another != first
