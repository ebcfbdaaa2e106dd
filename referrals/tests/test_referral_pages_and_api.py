"""The inbox and the API: one set of rules through two doors."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from referrals import services
from referrals.models import ReferralStatus

pytestmark = pytest.mark.django_db


def test_refer_from_the_case_and_answer_from_the_inbox(
    login, caseworker, case, council, other_agency_caseworker
):
    sender = login(caseworker)
    bad = sender.post(
        f"/referrals/cases/{case.pk}/new/",
        {
            "to_agency": council.pk,
            "kind": "accommodation",
            "urgency": "routine",
            "reason": "Bed",
            "share_identity": "on",
        },
    )
    assert bad.status_code == 200 and b"needs the person&#x27;s consent" in bad.content
    sent = sender.post(
        f"/referrals/cases/{case.pk}/new/",
        {"to_agency": council.pk, "kind": "accommodation", "urgency": "urgent", "reason": "Bed"},
        follow=True,
    )
    assert b"Referred to Northshire Council" in sent.content
    referral = case.referrals.get()

    receiver = login(other_agency_caseworker)
    inbox = receiver.get("/referrals/").content.decode()
    assert case.reference in inbox and "Urgent" in inbox
    assert receiver.get(f"/cases/{case.pk}/").status_code == 404  # nothing before accepting
    receiver.post(f"/referrals/{referral.pk}/answer/", {"action": "accept"})
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED
    page = receiver.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    assert b'id="needs"' in page.content and b'id="identity"' not in page.content


def test_decline_needs_a_reason_in_the_browser(
    login, caseworker, case, council, other_agency_caseworker
):
    referral = services.referral_send(
        actor=caseworker, case=case, to_agency=council, kind="health", reason="GP"
    )
    response = login(other_agency_caseworker).post(
        f"/referrals/{referral.pk}/answer/", {"action": "decline"}
    )
    assert response.status_code == 400 and b"This field is required" in response.content


def test_api_flow_and_errors(api, caseworker, case, council, other_agency_caseworker):
    client = api(caseworker)
    created = client.post(
        "/api/v1/referrals/",
        {
            "case": case.pk,
            "to_agency": council.pk,
            "kind": "health",
            "reason": "GP",
            "urgency": "routine",
        },
        format="json",
    )
    assert created.status_code == 201
    body = created.json()
    assert set(body) >= {
        "id",
        "case",
        "from_agency",
        "to_agency",
        "kind",
        "urgency",
        "reason",
        "share_identity",
        "status",
        "respond_by",
    }
    receiver = api(other_agency_caseworker)
    assert [r["id"] for r in receiver.get("/api/v1/referrals/").json()["results"]] == [body["id"]]
    assert (
        receiver.post(f"/api/v1/referrals/{body['id']}/decline/", {}, format="json").status_code
        == 400
    )
    assert receiver.post(f"/api/v1/referrals/{body['id']}/accept/").json()["status"] == "accepted"
    again = receiver.post(f"/api/v1/referrals/{body['id']}/accept/")
    assert again.status_code == 409
    assert (
        receiver.post(f"/api/v1/referrals/{body['id']}/complete/").json()["status"] == "completed"
    )
    # A case the caller cannot see cannot be referred: 404, as if it did not exist.
    stranger = receiver.post(
        "/api/v1/referrals/",
        {
            "case": case.pk,
            "to_agency": caseworker.membership.agency_id,
            "kind": "health",
            "reason": "x",
        },
        format="json",
    )
    assert stranger.status_code in (403, 404)


def test_nrm_and_deadlines_through_the_api(api, caseworker, case):
    client = api(caseworker)
    refused = client.post(f"/api/v1/cases/{case.pk}/nrm/", {}, format="json")
    assert refused.status_code == 400 and "consent" in refused.json()
    client.post(
        f"/api/v1/cases/{case.pk}/consents/",
        {"scope": "nrm_referral", "method": "written"},
        format="json",
    )
    # Submitted three days ago: the Reasonable Grounds target falls within the week the
    # deadlines list looks ahead, whatever today is.
    submitted = timezone.now() - datetime.timedelta(days=3)
    nrm = client.post(
        f"/api/v1/cases/{case.pk}/nrm/", {"submitted_at": submitted.isoformat()}, format="json"
    ).json()
    assert nrm["rg_decision"] == "pending"
    assert datetime.date.fromisoformat(nrm["rg_due"]) > timezone.localdate(submitted)
    bad = client.patch(
        f"/api/v1/cases/{case.pk}/nrm/{nrm['id']}/", {"rg_decision": "positive"}, format="json"
    )
    assert bad.status_code == 400 and "rg_decided_on" in bad.json()
    deadlines = client.get("/api/v1/deadlines/").json()
    assert [d["kind"] for d in deadlines] == ["nrm_rg_due"]
