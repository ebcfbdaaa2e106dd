"""Who may change an NRM record: the agency that made the NRM referral
and the case's lead agency, at both doors. Anyone else who sees the case gets 403 and the
record stays as it was; anyone who does not see the case gets 404."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from agencies.models import Role
from agencies.tests.factories import member
from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from casework import consents, transfers
from casework import services as casework
from referrals import nrm_services, services
from referrals.models import Decision, NRMReferral
from referrals.permissions import CHANGE_NRM, VIEW_NRM

pytestmark = pytest.mark.django_db

DECIDED = {"competent_authority_reference": "CA-HACKED", "rg_decision": "negative"}


@pytest.fixture
def harbours_nrm(caseworker, case):
    """Harbour Trust leads the case and made its NRM referral, ten days ago."""
    consents.consent_record(actor=caseworker, case=case, scope="nrm_referral", method="written")
    nrm = nrm_services.nrm_refer(
        actor=caseworker, case=case, submitted_at=timezone.now() - datetime.timedelta(days=10)
    )
    nrm_services.nrm_update(actor=caseworker, nrm=nrm, competent_authority_reference="CA-1")
    return nrm


def _accepted(caseworker, case, council, other_agency_caseworker, *, completed: bool):
    referral = services.referral_send(
        actor=caseworker, case=case, to_agency=council, kind="health", reason="GP"
    )
    services.referral_accept(actor=other_agency_caseworker, referral=referral)
    if completed:
        services.referral_complete(actor=other_agency_caseworker, referral=referral)


def _unchanged(nrm: NRMReferral) -> None:
    nrm.refresh_from_db()
    assert nrm.competent_authority_reference == "CA-1"
    assert nrm.rg_decision == Decision.PENDING


def _decision_post(nrm: NRMReferral) -> dict[str, str]:
    return {
        "action": "decision",
        "nrm_id": str(nrm.pk),
        "competent_authority_reference": "CA-HACKED",
        "rg_decision": "negative",
        "rg_decided_on": timezone.localdate().isoformat(),
        "cg_decision": "pending",
    }


@pytest.mark.parametrize("completed", [False, True], ids=["accepted", "completed"])
def test_a_council_caseworker_who_sees_the_case_may_not_rewrite_harbours_nrm(
    api,
    login,
    caseworker,
    case,
    council,
    other_agency_caseworker,
    harbours_nrm,
    completed,
):
    _accepted(caseworker, case, council, other_agency_caseworker, completed=completed)
    url = f"/api/v1/cases/{case.pk}/nrm/{harbours_nrm.pk}/"

    # The Council sees the record (a first responder must know the person was referred)...
    council_api = api(other_agency_caseworker)
    listed = council_api.get(f"/api/v1/cases/{case.pk}/nrm/")
    assert [row["id"] for row in listed.json()] == [harbours_nrm.pk]
    # ... but may not change it: 403 at the API door, even with a body that would not
    # validate (the right is checked before the body is read).
    assert council_api.patch(url, DECIDED, format="json").status_code == 403
    assert council_api.patch(url, {"rg_decision": "maybe"}, format="json").status_code == 403
    _unchanged(harbours_nrm)

    # The same at the browser door: no form offered, and a forged post is 403.
    page = login(other_agency_caseworker)
    shown = page.get(f"/referrals/cases/{case.pk}/nrm/")
    assert shown.status_code == 200
    assert b'name="nrm_id"' not in shown.content
    assert b"Decisions on this referral are recorded by Harbour Trust" in shown.content
    assert (
        page.post(f"/referrals/cases/{case.pk}/nrm/", _decision_post(harbours_nrm)).status_code
        == 403
    )
    _unchanged(harbours_nrm)

    with pytest.raises(PermissionDenied):
        nrm_services.nrm_update(
            actor=other_agency_caseworker, nrm=harbours_nrm, rg_decision="negative"
        )
    _unchanged(harbours_nrm)
    # Each refusal at a door is in the trail: two API patches and the page's post.
    forbidden = AuditEvent.objects.filter(
        action=AuthAction.ACCESS_FORBIDDEN, actor=other_agency_caseworker
    )
    assert forbidden.count() == 3


def test_an_agency_that_does_not_see_the_case_gets_404_as_for_no_record(
    api, login, case, harbours_nrm, police_officer, outside_officer
):
    for stranger in (police_officer, outside_officer):
        client = api(stranger)
        hidden = client.patch(
            f"/api/v1/cases/{case.pk}/nrm/{harbours_nrm.pk}/", DECIDED, format="json"
        )
        missing = client.patch(f"/api/v1/cases/{case.pk}/nrm/999999/", DECIDED, format="json")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json() == missing.json()
        page = login(stranger).post(
            f"/referrals/cases/{case.pk}/nrm/", _decision_post(harbours_nrm)
        )
        assert page.status_code == 404
    _unchanged(harbours_nrm)


def test_an_nrm_record_of_another_case_is_not_reachable_through_a_visible_case(
    api, caseworker, case, harbours_nrm
):
    other_case = casework.case_create(actor=caseworker, is_child=True)
    url = f"/api/v1/cases/{other_case.pk}/nrm/{harbours_nrm.pk}/"
    assert api(caseworker).patch(url, DECIDED, format="json").status_code == 404
    _unchanged(harbours_nrm)


def test_the_new_lead_after_a_transfer_may_change_it_and_the_referrer_still_may(
    api, login, caseworker, case_manager, case, council, council_manager, harbours_nrm
):
    transfer = transfers.transfer_propose(
        actor=case_manager, case=case, to_agency=council, reason="Moved to the city"
    )
    transfers.transfer_accept(actor=council_manager, transfer=transfer)
    council_caseworker = member(council, Role.CASEWORKER, username="council-cw")

    changed = api(council_caseworker).patch(
        f"/api/v1/cases/{case.pk}/nrm/{harbours_nrm.pk}/",
        {"competent_authority_reference": "CA-2"},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    harbours_nrm.refresh_from_db()
    assert harbours_nrm.competent_authority_reference == "CA-2"

    # Harbour made the referral: it still answers for it, through the page too.
    posted = login(caseworker).post(
        f"/referrals/cases/{case.pk}/nrm/",
        {**_decision_post(harbours_nrm), "rg_decision": "pending", "rg_decided_on": ""},
    )
    assert posted.status_code == 302
    harbours_nrm.refresh_from_db()
    assert harbours_nrm.competent_authority_reference == "CA-HACKED"


def test_the_lead_may_change_a_record_another_agency_made(
    api, caseworker, case, police, police_officer, council, other_agency_caseworker
):
    """Northshire Police, shown the case by a crime report, refers the person into the NRM:
    the police and Harbour (the lead) may change that record; the Council, which also sees
    the case, may not."""
    report = services.referral_send(
        actor=caseworker, case=case, to_agency=police, kind="police_crime_report", reason="x"
    )
    services.referral_accept(actor=police_officer, referral=report)
    _accepted(caseworker, case, council, other_agency_caseworker, completed=False)
    consents.consent_record(actor=caseworker, case=case, scope="nrm_referral", method="written")
    polices = nrm_services.nrm_refer(actor=police_officer, case=case)

    for user in (police_officer, caseworker):
        assert list(NRMReferral.objects.visible_to(user, CHANGE_NRM)) == [polices]
    assert list(NRMReferral.objects.visible_to(other_agency_caseworker, VIEW_NRM)) == [polices]
    assert not NRMReferral.objects.visible_to(other_agency_caseworker, CHANGE_NRM).exists()

    url = f"/api/v1/cases/{case.pk}/nrm/{polices.pk}/"
    assert (
        api(other_agency_caseworker)
        .patch(url, {"competent_authority_reference": "C"}, format="json")
        .status_code
        == 403
    )
    assert (
        api(caseworker)
        .patch(url, {"competent_authority_reference": "H"}, format="json")
        .status_code
        == 200
    )
    assert (
        api(police_officer)
        .patch(url, {"competent_authority_reference": "P"}, format="json")
        .status_code
        == 200
    )
    polices.refresh_from_db()
    assert polices.competent_authority_reference == "P"
