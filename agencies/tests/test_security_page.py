"""A user's own Security page: their second factors, adding and removing one
(an old phone), never the last; every removal audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies import second_factor
from agencies.tests.factories import PASSWORD, TEST_TOTP_KEY
from audit.audit_actions import AuthAction
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_the_page_lists_the_users_factors_and_recovery_codes(login, caseworker):
    second_factor.recovery_codes_issue(user=caseworker)
    page = login(caseworker).get("/accounts/security/")
    assert page.status_code == 200
    assert b"Authenticator app" in page.content
    assert b"You have 10 unused recovery codes." in page.content


def test_a_second_app_can_go_the_last_cannot(login, caseworker):
    client = login(caseworker)
    old_phone = second_factor.totp_device_with_key(
        caseworker, key_hex=TEST_TOTP_KEY, name="Old phone"
    )

    removed = client.post("/accounts/security/remove/", {"device": old_phone.persistent_id})

    assert removed.status_code == 302
    assert not TOTPDevice.objects.filter(pk=old_phone.pk).exists()
    event = AuditEvent.objects.get(action=AuthAction.DEVICE_REMOVED)
    assert (event.actor_id, event.detail) == (caseworker.pk, {"device": "totp"})

    last = TOTPDevice.objects.get(user=caseworker)
    refused = client.post("/accounts/security/remove/", {"device": last.persistent_id}, follow=True)
    assert b"This is your only authenticator app or passkey" in refused.content
    assert TOTPDevice.objects.filter(pk=last.pk).exists()
    assert AuditEvent.objects.filter(action=AuthAction.DEVICE_REMOVED).count() == 1


def test_another_users_device_is_not_found(login, caseworker, case_manager):
    theirs = TOTPDevice.objects.get(user=case_manager)
    second_factor.totp_device_with_key(caseworker, key_hex=TEST_TOTP_KEY, name="Spare")
    response = login(caseworker).post(
        "/accounts/security/remove/", {"device": theirs.persistent_id}
    )
    assert response.status_code == 404
    assert TOTPDevice.objects.filter(pk=theirs.pk).exists()


def test_a_password_alone_does_not_open_the_security_page(caseworker):
    client = Client()
    client.post("/accounts/login/", {"username": caseworker.username, "password": PASSWORD})
    response = client.get("/accounts/security/")
    assert response["Location"].startswith("/accounts/two-factor/?next=")
