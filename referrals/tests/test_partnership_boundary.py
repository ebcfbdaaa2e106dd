"""Referrals stay inside a partnership in force: a referral to an agency
that shares no partnership with the sender, or only one whose agreement has ended or not
yet started, is refused on ``to_agency`` at both doors and grants nothing; a referral sent
inside a partnership that has since ended can no longer be accepted (409)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from agencies import access
from agencies.models import NOT_A_CURRENT_PARTNER, Partnership
from audit.models import AuditEvent
from casework.models import CaseAgencyGrant
from casework.permissions import VIEW_CASE
from referrals import services
from referrals.models import Referral, ReferralStatus

pytestmark = pytest.mark.django_db

REFUSED = {"to_agency": [str(NOT_A_CURRENT_PARTNER)]}


def _body(case, agency) -> dict:
    return {"case": case.pk, "to_agency": agency.pk, "kind": "other", "reason": "Help"}


def _grants_of(agency) -> int:
    return CaseAgencyGrant.objects.filter(group_id=agency.group_id).count()


def _end(partnership: Partnership, *, days_ago: int) -> None:
    partnership.ends_on = timezone.localdate() - datetime.timedelta(days=days_ago)
    partnership.save(update_fields=["ends_on"])


def test_a_referral_to_an_agency_outside_every_partnership_is_refused(
    api, caseworker, case, outside_police, outside_officer
):
    answer = api(caseworker).post("/api/v1/referrals/", _body(case, outside_police), format="json")
    assert answer.status_code == 400
    assert answer.json() == REFUSED
    assert not Referral.objects.exists()
    assert _grants_of(outside_police) == 0
    outside_officer.refresh_from_db()
    assert not access.can(outside_officer, VIEW_CASE, case)
    assert api(outside_officer).get(f"/api/v1/cases/{case.pk}/").status_code == 404


@pytest.mark.parametrize(
    "lapse",
    ["ended yesterday", "starts tomorrow"],
)
def test_a_partnership_whose_agreement_is_not_in_force_links_no_one(
    api, caseworker, case, council, partnership, lapse
):
    if lapse == "ended yesterday":
        _end(partnership, days_ago=1)
    else:
        partnership.starts_on = timezone.localdate() + datetime.timedelta(days=1)
        partnership.save(update_fields=["starts_on"])
    answer = api(caseworker).post("/api/v1/referrals/", _body(case, council), format="json")
    assert answer.status_code == 400 and answer.json() == REFUSED
    with pytest.raises(ValidationError) as error:
        services.referral_send(
            actor=caseworker, case=case, to_agency=council, kind="other", reason="Help"
        )
    assert error.value.message_dict == REFUSED
    assert not Referral.objects.exists()


def test_the_last_day_of_an_agreement_is_still_in_force(
    api, caseworker, case, council, partnership
):
    _end(partnership, days_ago=0)
    answer = api(caseworker).post("/api/v1/referrals/", _body(case, council), format="json")
    assert answer.status_code == 201, answer.json()


def test_the_form_offers_only_partners_and_refuses_any_other(
    login, caseworker, case, council, police, prosecution, outside_police
):
    page = login(caseworker)
    form = page.get(f"/referrals/cases/{case.pk}/new/")
    offered = form.context["form"].fields["to_agency"].queryset
    assert set(offered) == {council, police, prosecution}

    forged = page.post(
        f"/referrals/cases/{case.pk}/new/",
        {"to_agency": outside_police.pk, "kind": "other", "urgency": "routine", "reason": "x"},
    )
    assert forged.status_code == 200
    assert forged.context["form"].errors["to_agency"] == [str(NOT_A_CURRENT_PARTNER)]
    assert not Referral.objects.exists()


def test_a_referral_whose_partnership_ended_after_sending_cannot_be_accepted(
    api, login, caseworker, case, council, other_agency_caseworker, partnership
):
    referral = services.referral_send(
        actor=caseworker, case=case, to_agency=council, kind="accommodation", reason="Bed"
    )
    second = services.referral_send(
        actor=caseworker, case=case, to_agency=council, kind="health", reason="GP"
    )
    _end(partnership, days_ago=1)

    answer = api(other_agency_caseworker).post(f"/api/v1/referrals/{referral.pk}/accept/")
    assert answer.status_code == 409
    assert "no longer share a partnership" in answer.json()["detail"]
    page = login(other_agency_caseworker).post(
        f"/referrals/{second.pk}/answer/", {"action": "accept"}, follow=True
    )
    assert "no longer share a partnership" in page.content.decode()
    for waiting in (referral, second):
        waiting.refresh_from_db()
        assert waiting.status == ReferralStatus.SENT
    assert _grants_of(council) == 0
    assert not AuditEvent.objects.filter(action="referral.accepted").exists()

    # It can still be declined, so the sender knows to look elsewhere.
    declined = api(other_agency_caseworker).post(
        f"/api/v1/referrals/{referral.pk}/decline/", {"reason": "No agreement"}, format="json"
    )
    assert declined.status_code == 200
    assert _grants_of(council) == 0
