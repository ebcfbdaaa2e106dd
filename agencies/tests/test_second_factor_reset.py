"""An agency admin resets a member's second factors when they lose their phone or key:
at both doors and in the Django admin, audited, the member signed out
everywhere and told, and made to enrol again at their next sign-in."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from agencies import second_factor, services
from agencies.tests.factories import PASSWORD, sign_in, verify_session
from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from notifications.models import NotificationEvent

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    sign_in(client, user)
    assert client.get("/").status_code == 200
    return client


def test_the_service_removes_every_device_ends_sign_ins_tells_the_member_and_audits(
    caseworker, agency_admin
):
    second_factor.recovery_codes_issue(user=caseworker)
    browser = signed_in(caseworker)
    AuthToken.objects.create(caseworker)

    removed = services.member_second_factors_reset(
        actor=agency_admin, membership=caseworker.membership
    )

    assert removed == 2  # the authenticator app and the recovery codes
    assert not TOTPDevice.objects.filter(user=caseworker).exists()
    assert not StaticDevice.objects.filter(user=caseworker).exists()
    assert not AuthToken.objects.filter(user=caseworker).exists()
    assert browser.get("/").status_code == 302  # signed out
    reset = AuditEvent.objects.get(action=AuthAction.DEVICES_RESET)
    assert (reset.actor_id, reset.detail) == (agency_admin.pk, {"removed": 2})
    ended = AuditEvent.objects.get(action=AuthAction.SIGN_INS_ENDED)
    assert ended.detail["reason"] == "second_factors_reset"
    event = NotificationEvent.objects.get(kind="account.second_factors_reset")
    assert caseworker.username not in event.message and caseworker.email not in event.message


def test_after_a_reset_the_member_must_enrol_again_before_anything_else(caseworker, agency_admin):
    services.member_second_factors_reset(actor=agency_admin, membership=caseworker.membership)
    client = Client()
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/cases/")["Location"].startswith("/accounts/two-factor/setup/")
    # A code from the old app no longer opens anything.
    assert client.get("/accounts/two-factor/")["Location"].startswith("/accounts/two-factor/setup/")


def test_only_an_admin_of_the_members_own_agency_may_reset(
    caseworker, case_manager, other_agency_admin, agency_admin
):
    with pytest.raises(PermissionDenied):
        services.member_second_factors_reset(
            actor=other_agency_admin, membership=caseworker.membership
        )
    with pytest.raises(PermissionDenied):
        services.member_second_factors_reset(actor=case_manager, membership=caseworker.membership)
    with pytest.raises(ValidationError):
        services.member_second_factors_reset(actor=agency_admin, membership=agency_admin.membership)
    assert TOTPDevice.objects.filter(user__in=[caseworker, agency_admin]).count() == 2
    assert not AuditEvent.objects.filter(action=AuthAction.DEVICES_RESET).exists()


def test_the_page_asks_for_confirmation_then_resets(login, caseworker, agency_admin):
    client = login(agency_admin)
    detail = client.get(f"/agency/users/{caseworker.membership.pk}/")
    assert b"authenticator app" in detail.content
    assert b"Reset their second factors" in detail.content
    url = f"/agency/users/{caseworker.membership.pk}/reset-second-factor/"
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert TOTPDevice.objects.filter(user=caseworker).exists()  # a GET changes nothing

    done = client.post(url, follow=True)

    assert done.redirect_chain[-1][0] == f"/agency/users/{caseworker.membership.pk}/"
    assert b"second factors were reset" in done.content
    assert b"Not set up yet" in done.content
    assert not TOTPDevice.objects.filter(user=caseworker).exists()


def test_an_admin_cannot_reset_their_own_on_the_page(login, agency_admin):
    client = login(agency_admin)
    own = client.get(f"/agency/users/{agency_admin.membership.pk}/")
    assert b"Reset their second factors" not in own.content
    response = client.post(
        f"/agency/users/{agency_admin.membership.pk}/reset-second-factor/", follow=True
    )
    assert b"ask another administrator" in response.content
    assert TOTPDevice.objects.filter(user=agency_admin).exists()


def test_the_api_resets_and_answers_like_the_page(
    api, caseworker, agency_admin, other_agency_admin
):
    url = f"/api/v1/agency/users/{caseworker.membership.pk}/reset-second-factor/"
    assert api(other_agency_admin).post(url).status_code == 404
    assert api(caseworker).post(url).status_code == 403
    own = f"/api/v1/agency/users/{agency_admin.membership.pk}/reset-second-factor/"
    assert api(agency_admin).post(own).status_code == 400

    response = api(agency_admin).post(url)

    assert response.status_code == 200
    assert response.json()["id"] == caseworker.membership.pk
    assert not TOTPDevice.objects.filter(user=caseworker).exists()
    assert (
        AuditEvent.objects.for_target(caseworker).filter(action=AuthAction.DEVICES_RESET).exists()
    )


def test_a_superuser_resets_in_the_django_admin(admin_client, admin_user, caseworker):
    verify_session(admin_client, admin_user)
    response = admin_client.post(
        "/admin/agencies/user/",
        {"action": "reset_second_factors", "_selected_action": [caseworker.pk, admin_user.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=caseworker).exists()
    assert TOTPDevice.objects.filter(user=admin_user).exists()  # never their own
    assert b"left alone" in response.content
    reset = AuditEvent.objects.get(action=AuthAction.DEVICES_RESET)
    assert reset.actor_id == admin_user.pk
