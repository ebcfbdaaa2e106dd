"""One scoping entry point for referrals: ``Referral.objects.visible_to``
for lists, ``access.get_visible_or_404`` for single reads, at both doors. A referral the
caller may not see is 404 exactly as one that does not exist, and the attempt is audited;
a role that never works with referrals is 403 at both doors."""

from __future__ import annotations

import pytest

from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from referrals import services
from referrals.models import Referral
from referrals.permissions import VIEW_REFERRAL

pytestmark = pytest.mark.django_db


@pytest.fixture
def to_council(caseworker, case, council):
    return services.referral_send(
        actor=caseworker, case=case, to_agency=council, kind="health", reason="GP"
    )


@pytest.fixture
def to_police(caseworker, case, police):
    return services.referral_send(
        actor=caseworker, case=case, to_agency=police, kind="police_crime_report", reason="x"
    )


def _denied(referral: Referral) -> int:
    return AuditEvent.objects.filter(
        action=AuthAction.ACCESS_DENIED,
        target_type="referrals.referral",
        target_id=str(referral.pk),
    ).count()


def test_visible_to_is_the_agency_s_inbox_and_outbox_for_roles_that_work_with_referrals(
    caseworker, other_agency_caseworker, police_officer, analyst, to_council, to_police
):
    assert set(Referral.objects.visible_to(caseworker, VIEW_REFERRAL)) == {to_council, to_police}
    assert list(Referral.objects.visible_to(other_agency_caseworker, VIEW_REFERRAL)) == [to_council]
    assert list(Referral.objects.visible_to(police_officer, VIEW_REFERRAL)) == [to_police]
    assert not Referral.objects.visible_to(analyst, VIEW_REFERRAL).exists()  # same agency


def test_a_hidden_referral_is_404_like_a_missing_one_and_audited_at_both_doors(
    api, login, police_officer, to_council
):
    client = api(police_officer)
    hidden = client.get(f"/api/v1/referrals/{to_council.pk}/")
    missing = client.get(f"/api/v1/referrals/{to_council.pk + 1000}/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert _denied(to_council) == 1

    page = login(police_officer)
    assert page.get(f"/referrals/{to_council.pk}/").status_code == 404
    assert page.get(f"/referrals/{to_council.pk + 1000}/").status_code == 404
    assert _denied(to_council) == 2

    # Acting on it is the same 404 (and audited): no answer says it exists.
    assert client.post(f"/api/v1/referrals/{to_council.pk}/accept/").status_code == 404
    assert page.post(f"/referrals/{to_council.pk}/answer/", {"action": "accept"}).status_code == 404
    assert _denied(to_council) == 4


def test_a_role_without_referral_work_is_403_at_both_doors(api, login, analyst, to_police):
    client = api(analyst)
    assert client.get("/api/v1/referrals/").status_code == 403
    assert client.get(f"/api/v1/referrals/{to_police.pk}/").status_code == 403
    page = login(analyst)
    assert page.get("/referrals/").status_code == 403
    assert page.get(f"/referrals/{to_police.pk}/").status_code == 403
    assert _denied(to_police) == 0  # refused before the id was looked up
