"""A lead transfer stays inside a partnership in force: proposing one to
an agency that shares no partnership with the lead, or only one whose agreement has ended
or not started, is refused on ``to_agency`` (400, one answer whatever the reason) and
shows the case to no one; one whose partnership ended after it was proposed cannot be
accepted (409), and beat's hourly sweep withdraws it and takes back the summary it showed."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from agencies import access
from agencies.models import NOT_A_CURRENT_PARTNER, Partnership, Role
from agencies.tests.factories import AgencyFactory, member
from audit.models import AuditEvent
from casework import transfers
from casework.models import CaseAgencyGrant, LeadTransfer, TransferStatus
from casework.permissions import VIEW_CASE
from notifications.models import NotificationEvent
from referrals.tasks import end_sharing_outside_partnerships

pytestmark = pytest.mark.django_db

REFUSED = {"to_agency": [str(NOT_A_CURRENT_PARTNER)]}


def _propose(api, user, case, to_agency_id):
    return api(user).post(
        f"/api/v1/cases/{case.pk}/transfer/",
        {"to_agency": to_agency_id, "reason": "Moving"},
        format="json",
    )


def test_a_transfer_outside_every_partnership_is_refused_and_shows_nothing(
    api, case, case_manager, partnership, outside_police, outside_officer
):
    answer = _propose(api, case_manager, case, outside_police.pk)
    assert answer.status_code == 400 and answer.json() == REFUSED
    assert not LeadTransfer.objects.exists()
    assert not CaseAgencyGrant.objects.filter(group_id=outside_police.group_id).exists()
    assert not access.can(outside_officer, VIEW_CASE, case)


@pytest.mark.parametrize("lapse", ["ended yesterday", "starts tomorrow"])
def test_an_agreement_not_in_force_links_no_one(
    api, case, case_manager, council, partnership, lapse
):
    today = timezone.localdate()
    if lapse == "ended yesterday":
        partnership.ends_on = today - datetime.timedelta(days=1)
    else:
        partnership.starts_on = today + datetime.timedelta(days=1)
    partnership.save()
    answer = _propose(api, case_manager, case, council.pk)
    assert answer.status_code == 400 and answer.json() == REFUSED
    with pytest.raises(ValidationError) as error:
        transfers.transfer_propose(actor=case_manager, case=case, to_agency=council, reason="x")
    assert error.value.message_dict == REFUSED
    assert not LeadTransfer.objects.exists()
    assert not CaseAgencyGrant.objects.filter(group_id=council.group_id).exists()


def test_a_missing_inactive_or_outside_agency_is_one_answer(
    api, case, case_manager, partnership, outside_police
):
    closed = AgencyFactory(name="Closed Charity", active=False)
    partnership.agencies.add(closed)
    answers = [
        _propose(api, case_manager, case, agency_id)
        for agency_id in (999999, closed.pk, outside_police.pk, "abc", 10**30)
    ]
    assert [a.status_code for a in answers] == [400] * 5
    assert all(a.json() == REFUSED for a in answers)


def test_the_transfer_form_offers_only_the_lead_s_partners(
    login, case, caseworker, council, police, prosecution, partnership, outside_police
):
    page = login(caseworker).get(f"/cases/{case.pk}/")
    offered = set(page.context["transfer_form"].fields["to_agency"].queryset)
    assert offered == {council, police, prosecution}
    forged = login(caseworker).post(
        f"/cases/{case.pk}/transfer/", {"to_agency": outside_police.pk, "reason": "x"}
    )
    assert forged.status_code == 200
    assert "to_agency" in forged.context["transfer_form"].errors
    assert not LeadTransfer.objects.exists()


def test_a_transfer_whose_partnership_ended_after_it_was_proposed_cannot_be_accepted(
    api, case, case_manager, council, partnership
):
    council_manager = member(council, Role.CASE_MANAGER, username="council-manager")
    transfer = transfers.transfer_propose(
        actor=case_manager, case=case, to_agency=council, reason="Moving"
    )
    partnership.ends_on = timezone.localdate() - datetime.timedelta(days=1)
    partnership.save()
    answer = api(council_manager).post(
        f"/api/v1/cases/{case.pk}/transfer/{transfer.pk}/accept/", {}, format="json"
    )
    assert answer.status_code == 409
    assert "no longer share a partnership" in answer.json()["detail"]
    transfer.refresh_from_db()
    case.refresh_from_db()
    assert transfer.status == TransferStatus.PROPOSED
    assert case.lead_agency.name == "Harbour Trust"
    # Declining still works, and takes back the summary it was shown.
    transfers.transfer_decline(actor=council_manager, transfer=transfer, note="No agreement")
    assert not CaseAgencyGrant.objects.filter(group_id=council.group_id).exists()


def test_a_proposed_transfer_ends_with_the_agreement_and_a_second_run_changes_nothing(
    api, case, case_manager, council, partnership
):
    council_manager = member(council, Role.CASE_MANAGER, username="council-manager")
    transfer = transfers.transfer_propose(
        actor=case_manager, case=case, to_agency=council, reason="Moving"
    )
    assert api(council_manager).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    partnership.ends_on = timezone.localdate() - datetime.timedelta(days=1)
    partnership.save()

    assert end_sharing_outside_partnerships() == {"referrals": 0, "transfers": 1}

    transfer.refresh_from_db()
    case.refresh_from_db()
    assert transfer.status == TransferStatus.WITHDRAWN
    assert transfer.decided_by is None  # no one decided: Concord ended it
    assert "no longer share a partnership" in transfer.decision_note
    assert case.lead_agency.name == "Harbour Trust"
    assert not CaseAgencyGrant.objects.filter(group_id=council.group_id).exists()
    assert api(council_manager).get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert AuditEvent.objects.filter(action="transfer.ended").count() == 1
    told = NotificationEvent.objects.filter(kind="transfer.ended")
    assert {(event.agency.name, event.url) for event in told} == {
        ("Harbour Trust", f"/cases/{case.pk}/#transfer"),
        ("Northshire Council", "/notifications/"),
    }

    assert end_sharing_outside_partnerships() == {"referrals": 0, "transfers": 0}
    assert AuditEvent.objects.filter(action="transfer.ended").count() == 1
    assert NotificationEvent.objects.filter(kind="transfer.ended").count() == 2
    # The case is free for a new proposal, to an agency the lead partners now.
    quay = AgencyFactory(name="Quay Trust")
    Partnership.objects.create(name="Coast Partnership", starts_on="2024-01-01").agencies.set(
        [case.lead_agency, quay]
    )
    transfers.transfer_propose(actor=case_manager, case=case, to_agency=quay, reason="Moving")


def test_a_proposed_transfer_inside_a_partnership_in_force_is_left_alone(
    case, case_manager, council, partnership
):
    transfer = transfers.transfer_propose(
        actor=case_manager, case=case, to_agency=council, reason="Moving"
    )
    assert transfers.transfers_end_outside_partnerships() == 0
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.PROPOSED
    assert CaseAgencyGrant.objects.filter(group_id=council.group_id).exists()
