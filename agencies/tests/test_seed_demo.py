"""The demo partnership: every role can sign in, and seeding twice changes nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from agencies.models import Agency, Membership, Partnership, User
from audit.models import AuditEvent
from casework.models import Case, Need
from referrals.models import NRMReferral, Referral

pytestmark = pytest.mark.django_db

DEMO_USERS = {
    "harbour.caseworker": ("Harbour Trust", "caseworker"),
    "harbour.manager": ("Harbour Trust", "case_manager"),
    "harbour.admin": ("Harbour Trust", "agency_admin"),
    "council.caseworker": ("Northshire Council Adult Social Care", "caseworker"),
    "partnership.manager": ("Northshire Council Adult Social Care", "partnership_manager"),
    "north.officer": ("Northshire Police", "officer"),
    "north.analyst": ("Northshire Police", "analyst"),
    "health.caseworker": ("Northshire Health", "caseworker"),
    "cps.prosecutor": ("Crown Prosecution Northshire", "prosecutor"),
    "labour.officer": ("Labour Inspectorate", "officer"),
    "ljubljana.officer": ("Ljubljana Police Directorate", "officer"),
    "south.officer": ("Southshire Police", "officer"),
}


def counts() -> tuple[int, ...]:
    return tuple(
        m.objects.count() for m in (Agency, Membership, User, Partnership, Case, Need, AuditEvent)
    )


def test_seed_demo_is_idempotent_and_complete(client, settings):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    first = counts()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert counts() == first

    found = {
        m.user.username: (m.agency.name, m.role)
        for m in Membership.objects.select_related("user", "agency")
    }
    assert found == DEMO_USERS
    partnership = Partnership.objects.get(name="Northshire Modern Slavery Partnership")
    assert "Southshire Police" not in set(partnership.agencies.values_list("name", flat=True))
    assert partnership.agencies.count() == 7
    assert set(Case.objects.values_list("status", flat=True)) == {"open", "active", "closed"}
    assert Case.objects.filter(lead_agency__name="Northshire Council Adult Social Care").exists()
    assert set(Referral.objects.values_list("status", flat=True)) == {
        "sent",
        "accepted",
        "declined",
        "withdrawn",
        "expired",
        "completed",
    }
    assert any(r.is_overdue for r in Referral.objects.all())
    assert any(n.recovery_period_ends for n in NRMReferral.objects.all())
    assert any(n.reconsideration_deadline for n in NRMReferral.objects.all())

    # Every demo user signs in with the printed password and the shared authenticator
    # (``make demo-code`` prints the code it shows now).
    from devtools.demo_code import code_now

    for username in DEMO_USERS:
        response = client.post(
            "/accounts/login/", {"username": username, "password": settings.DEMO_PASSWORD}
        )
        assert response.status_code == 302, username
        second = client.post(
            "/accounts/two-factor/", {"code": code_now(settings.DEMO_TOTP_SECRET)[0]}
        )
        assert second.status_code == 302, username
        assert client.get("/").status_code == 200, username
        client.post("/accounts/logout/")
