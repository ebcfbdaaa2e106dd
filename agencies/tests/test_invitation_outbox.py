"""An invitation survives a broker that is down: the invite answers success at once, and
the email goes when beat re-queues it once the broker is back (issue 19)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agencies import services
from agencies.models import Invitation, Role
from agencies.tasks import requeue_invitations, send_invitation


def _past_the_grace(invitation: Invitation) -> None:
    # Older than the grace in which its on-commit publish would have started it.
    Invitation.objects.filter(pk=invitation.pk).update(
        created_at=timezone.now() - services.INVITATION_GRACE - timedelta(seconds=1)
    )


# Transactional: the service's own commit runs its on-commit publish inside the request,
# as in production, where a publish that raised answered 500 after the user was made.
@pytest.mark.django_db(transaction=True)
def test_an_invite_while_the_broker_is_down_succeeds_and_beat_sends_it_once_back(
    api, agency_admin, mailoutbox, broker_down
):
    response = api(agency_admin).post(
        "/api/v1/agency/users/",
        {"username": "dora", "email": "dora@example.org", "role": "caseworker"},
        format="json",
    )

    assert response.status_code == 201
    invitation = Invitation.objects.get(membership__user__username="dora")
    assert invitation.done_at is None and mailoutbox == []
    # The message it tried to publish carried the invitation's id and nothing else.
    assert broker_down.published == [(send_invitation.name, (invitation.pk,))]

    _past_the_grace(invitation)
    assert requeue_invitations.run() == 0  # still down: nothing lost, tried again later
    assert mailoutbox == []

    broker_down.back()
    assert requeue_invitations.run() == 1  # eager: published and sent here
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["dora@example.org"]
    assert "/accounts/reset/" in mailoutbox[0].body
    invitation.refresh_from_db()
    assert invitation.done_at is not None
    assert requeue_invitations.run() == 0  # done: never sent again


@pytest.mark.django_db
def test_the_browser_invite_answers_with_its_redirect_while_the_broker_is_down(
    login, agency_admin, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(agency_admin).post(
            "/agency/users/new/",
            {"username": "dora", "email": "dora@example.org", "role": "case_manager"},
        )
    assert response.status_code == 302
    assert Invitation.objects.filter(
        membership__user__username="dora", done_at__isnull=True
    ).exists()


@pytest.mark.django_db
def test_an_invitation_is_sent_once_however_often_its_task_runs(
    agency_admin, harbour, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.membership_create(
            actor=agency_admin,
            agency=harbour,
            username="dora",
            email="dora@example.org",
            role=Role.CASEWORKER,
        )
    assert len(mailoutbox) == 1
    invitation_id = membership.invitation.pk
    assert services.invitation_send(invitation_id=invitation_id) is False
    _past_the_grace(membership.invitation)
    assert services.invitations_to_requeue() == []
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_an_invitation_no_longer_owed_is_done_without_an_email(agency_admin, harbour, mailoutbox):
    membership = services.membership_create(
        actor=agency_admin,
        agency=harbour,
        username="dora",
        email="dora@example.org",
        role=Role.CASEWORKER,
    )
    user = membership.user
    user.set_password("a long and fine password 42")
    user.save()
    assert services.invitation_send(invitation_id=membership.invitation.pk) is False
    assert mailoutbox == []
    assert Invitation.objects.get(pk=membership.invitation.pk).done_at is not None


@pytest.mark.django_db
def test_a_failed_send_releases_the_claim_for_beat(agency_admin, harbour, mailoutbox, monkeypatch):
    membership = services.membership_create(
        actor=agency_admin,
        agency=harbour,
        username="dora",
        email="dora@example.org",
        role=Role.CASEWORKER,
    )

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("mail server unreachable")

    monkeypatch.setattr(services, "send_mail", refuse)
    with pytest.raises(OSError):
        services.invitation_send(invitation_id=membership.invitation.pk)
    invitation = Invitation.objects.get(pk=membership.invitation.pk)
    assert invitation.claimed_at is None and invitation.done_at is None
    assert invitation.attempts == 1
    _past_the_grace(invitation)
    assert services.invitations_to_requeue() == [invitation.pk]
