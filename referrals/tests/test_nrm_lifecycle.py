"""An NRM referral's life after the first decisions:
reconsideration of a negative RG or CG decision, with the clocks following the final
decision; the person withdrawing; one referral in progress at a time; the clocks and
reminders following a lead transfer. At both doors."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from agencies.models import Role
from agencies.tests.factories import member
from audit.models import AuditEvent
from casework import consents, transfers
from casework import services as casework
from core.errors import IllegalTransition
from referrals import nrm_services, services
from referrals.calendar import due_date
from referrals.deadlines import deadlines_for
from referrals.models import Decision, NRMReconsideration, NRMReferral

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def _days_ago(days: int) -> datetime.date:
    return TODAY() - datetime.timedelta(days=days)


def _at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))


@pytest.fixture
def nrm(caseworker, case) -> NRMReferral:
    """Harbour Trust (England) referred the adult 60 days ago, with their consent."""
    consents.consent_record(actor=caseworker, case=case, scope="nrm_referral", method="written")
    return nrm_services.nrm_refer(actor=caseworker, case=case, submitted_at=_at(_days_ago(60)))


def _negative_rg(caseworker, nrm, days_ago: int) -> NRMReferral:
    return nrm_services.nrm_update(
        actor=caseworker, nrm=nrm, rg_decision="negative", rg_decided_on=_days_ago(days_ago)
    )


def _negative_cg(caseworker, nrm, rg_days_ago: int = 50, cg_days_ago: int = 10) -> NRMReferral:
    nrm_services.nrm_update(
        actor=caseworker, nrm=nrm, rg_decision="positive", rg_decided_on=_days_ago(rg_days_ago)
    )
    return nrm_services.nrm_update(
        actor=caseworker, nrm=nrm, cg_decision="negative", cg_decided_on=_days_ago(cg_days_ago)
    )


def _fresh(nrm: NRMReferral) -> NRMReferral:
    return NRMReferral.objects.select_related("agency", "case").get(pk=nrm.pk)


# --- reconsideration ----------------------------------------------------------------


def test_an_overturned_negative_rg_starts_the_recovery_period_on_the_new_decision(
    caseworker, case, nrm
):
    _negative_rg(caseworker, nrm, 20)
    assert nrm.reconsideration_deadline == _days_ago(20) + datetime.timedelta(days=30)
    request = nrm_services.nrm_reconsideration_request(
        actor=caseworker,
        nrm=_fresh(nrm),
        requested_on=_days_ago(15),
        requested_by="representative",
        grounds="New evidence of control by the employer.",
    )
    assert request.stage == "rg" and request.original_decided_on == _days_ago(20)
    nrm = _fresh(nrm)
    assert nrm.reconsideration_deadline is None  # asked: the window has done its work
    # While it is reconsidered the referral is in progress: no second one.
    with pytest.raises(IllegalTransition):
        nrm_services.nrm_refer(actor=caseworker, case=case)

    nrm_services.nrm_reconsideration_outcome(
        actor=caseworker, reconsideration=request, outcome="overturned", outcome_on=_days_ago(5)
    )
    nrm = _fresh(nrm)
    assert (nrm.rg_decision, nrm.rg_decided_on) == (Decision.POSITIVE, _days_ago(5))
    assert nrm.recovery_period_ends == _days_ago(5) + datetime.timedelta(days=30)
    assert NRMReconsideration.objects.get().original_decided_on == _days_ago(20)
    assert [kind for kind, _label, _end in nrm.clocks()] == ["recovery_ends"]
    assert AuditEvent.objects.filter(action="nrm.reconsideration_decided").exists()


def test_an_upheld_negative_cg_starts_the_negative_move_on_from_the_new_decision(caseworker, nrm):
    _negative_cg(caseworker, nrm)
    nrm = _fresh(nrm)
    assert nrm.support_ends_on == due_date(_at(_days_ago(10)), 9, "GB", "")
    request = nrm_services.nrm_reconsideration_request(
        actor=caseworker,
        nrm=nrm,
        requested_on=_days_ago(8),
        requested_by="person",
        grounds="The interview was without an interpreter.",
    )
    assert request.stage == "cg"
    # Support goes on while the negative CG decision is reconsidered.
    assert _fresh(nrm).support_ends_on is None
    nrm_services.nrm_reconsideration_outcome(
        actor=caseworker, reconsideration=request, outcome="upheld", outcome_on=_days_ago(1)
    )
    nrm = _fresh(nrm)
    assert (nrm.cg_decision, nrm.cg_decided_on) == (Decision.NEGATIVE, _days_ago(1))
    assert nrm.support_ends_on == due_date(_at(_days_ago(1)), 9, "GB", "")
    assert nrm.reconsideration_deadline is None  # one reconsideration per decision


def test_a_late_request_needs_an_extension_with_its_reason(caseworker, nrm):
    _negative_rg(caseworker, nrm, 45)
    late = {
        "actor": caseworker,
        "nrm": _fresh(nrm),
        "requested_on": _days_ago(2),
        "requested_by": "person",
        "grounds": "Was in hospital.",
    }
    with pytest.raises(ValidationError) as refused:
        nrm_services.nrm_reconsideration_request(**late)
    assert "within 30 days" in str(refused.value.message_dict["requested_on"])
    with pytest.raises(ValidationError) as refused:
        nrm_services.nrm_reconsideration_request(**late, extension_granted=True)
    assert "extension_reason" in refused.value.message_dict
    assert not NRMReconsideration.objects.exists()
    row = nrm_services.nrm_reconsideration_request(
        **late, extension_granted=True, extension_reason="Admitted to hospital for 3 weeks."
    )
    assert row.extension_granted


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("pending", "no negative decision"),
        ("positive", "no negative decision"),
        ("asked", "already asked"),
    ],
)
def test_reconsideration_is_for_a_negative_decision_once(caseworker, nrm, state, message):
    if state == "positive":
        nrm_services.nrm_update(
            actor=caseworker, nrm=nrm, rg_decision="positive", rg_decided_on=_days_ago(3)
        )
    if state == "asked":
        _negative_rg(caseworker, nrm, 3)
        nrm_services.nrm_reconsideration_request(
            actor=caseworker,
            nrm=_fresh(nrm),
            requested_on=_days_ago(1),
            requested_by="person",
            grounds="x",
        )
    with pytest.raises(IllegalTransition, match=message):
        nrm_services.nrm_reconsideration_request(
            actor=caseworker,
            nrm=_fresh(nrm),
            requested_on=TODAY(),
            requested_by="person",
            grounds="x",
        )


def test_an_outcome_is_recorded_once_and_not_before_the_request(caseworker, nrm):
    _negative_rg(caseworker, nrm, 10)
    request = nrm_services.nrm_reconsideration_request(
        actor=caseworker,
        nrm=_fresh(nrm),
        requested_on=_days_ago(5),
        requested_by="first_responder",
        grounds="x",
    )
    with pytest.raises(ValidationError) as refused:
        nrm_services.nrm_reconsideration_outcome(
            actor=caseworker, reconsideration=request, outcome="overturned", outcome_on=_days_ago(6)
        )
    assert "outcome_on" in refused.value.message_dict
    nrm_services.nrm_reconsideration_outcome(
        actor=caseworker, reconsideration=request, outcome="upheld", outcome_on=_days_ago(1)
    )
    with pytest.raises(IllegalTransition, match="already recorded"):
        nrm_services.nrm_reconsideration_outcome(
            actor=caseworker, reconsideration=request, outcome="overturned", outcome_on=TODAY()
        )


# --- withdrawal and one referral at a time --------------------------------------------


def test_withdrawal_stops_the_clocks_tells_the_agencies_and_allows_a_new_referral(
    caseworker, case, nrm, notification_worker
):
    from notifications.models import Notification

    assert nrm.clocks()  # the RG decision is overdue
    with pytest.raises(IllegalTransition):
        nrm_services.nrm_refer(actor=caseworker, case=case)
    nrm_services.nrm_withdraw(actor=caseworker, nrm=nrm, reason="Wants to go home.")
    notification_worker()
    nrm = _fresh(nrm)
    assert nrm.is_withdrawn and nrm.clocks() == []
    assert nrm.withdrawal_reason == "Wants to go home."
    assert Notification.objects.filter(kind="nrm.withdrawn", recipient=caseworker).exists()
    assert "Wants to go home" not in Notification.objects.get(recipient=caseworker).message
    assert deadlines_for(caseworker) == []
    assert nrm_services.nrm_send_deadline_reminders() == 0
    # Nothing more changes on it, and a new referral can be made.
    with pytest.raises(IllegalTransition, match="withdrew"):
        nrm_services.nrm_update(actor=caseworker, nrm=nrm, competent_authority_reference="CA-9")
    with pytest.raises(IllegalTransition, match="withdrew"):
        nrm_services.nrm_withdraw(actor=caseworker, nrm=nrm)
    assert nrm_services.nrm_refer(actor=caseworker, case=case).pk != nrm.pk


def test_a_concluded_referral_cannot_be_withdrawn_and_a_new_one_can_follow_it(
    caseworker, case, nrm
):
    nrm_services.nrm_update(
        actor=caseworker, nrm=nrm, rg_decision="positive", rg_decided_on=_days_ago(50)
    )
    nrm_services.nrm_update(
        actor=caseworker, nrm=nrm, cg_decision="positive", cg_decided_on=_days_ago(5)
    )
    with pytest.raises(IllegalTransition, match="concluded"):
        nrm_services.nrm_withdraw(actor=caseworker, nrm=nrm)
    assert nrm_services.nrm_refer(actor=caseworker, case=case)


def test_a_negative_rg_not_reconsidered_concludes_the_referral(caseworker, case, nrm):
    _negative_rg(caseworker, nrm, 3)
    assert nrm_services.nrm_refer(actor=caseworker, case=case)


# --- lead transfer --------------------------------------------------------------------


def test_after_a_lead_transfer_the_new_lead_gets_the_clocks_and_reminders(
    caseworker, case_manager, case, council, council_manager, nrm, notification_worker
):
    from notifications.models import Notification

    # Referred ten days ago: its RG decision is overdue, and recent enough to be listed.
    NRMReferral.objects.filter(pk=nrm.pk).update(submitted_at=_at(_days_ago(10)))
    transfer = transfers.transfer_propose(
        actor=case_manager, case=case, to_agency=council, reason="Moved to the city"
    )
    transfers.transfer_accept(actor=council_manager, transfer=transfer)
    council_caseworker = member(council, Role.CASEWORKER, username="council-cw-2")
    assert [d.kind for d in deadlines_for(council_caseworker)] == ["nrm_rg_due"]
    assert [d.kind for d in deadlines_for(caseworker)] == ["nrm_rg_due"]  # still the referrer

    nrm_services.nrm_send_deadline_reminders()
    notification_worker()
    told = Notification.objects.filter(kind="nrm.rg_due.passed")
    assert set(told.values_list("recipient__membership__agency", flat=True)) == {
        caseworker.membership.agency_id,
        council.pk,
    }
    count = told.count()
    nrm_services.nrm_send_deadline_reminders()
    notification_worker()
    assert told.count() == count  # once each


# --- the API door ----------------------------------------------------------------------


def test_the_api_records_a_reconsideration_its_outcome_and_a_withdrawal(
    api, caseworker, case, nrm, other_agency_caseworker
):
    _negative_rg(caseworker, nrm, 4)
    base = f"/api/v1/cases/{case.pk}/nrm/{nrm.pk}"
    bad = api(caseworker).post(f"{base}/reconsiderations/", {"requested_by": "x"}, format="json")
    assert bad.status_code == 400
    made = api(caseworker).post(
        f"{base}/reconsiderations/",
        {
            "requested_on": _days_ago(2).isoformat(),
            "requested_by": "person",
            "grounds": "New evidence.",
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert made.json()["stage"] == "rg" and made.json()["grounds"] == "New evidence."
    again = api(caseworker).post(
        f"{base}/reconsiderations/",
        {"requested_on": TODAY().isoformat(), "requested_by": "person", "grounds": "x"},
        format="json",
    )
    assert again.status_code == 409
    outcome_url = f"{base}/reconsiderations/{made.json()['id']}/outcome/"
    # The Council does not see the case: 404, and nothing is recorded.
    hidden = api(other_agency_caseworker).post(
        outcome_url, {"outcome": "overturned", "outcome_on": TODAY().isoformat()}, format="json"
    )
    assert hidden.status_code == 404
    decided = api(caseworker).post(
        outcome_url, {"outcome": "overturned", "outcome_on": TODAY().isoformat()}, format="json"
    )
    assert decided.status_code == 200, decided.json()
    listed = api(caseworker).get(f"/api/v1/cases/{case.pk}/nrm/").json()
    assert listed[0]["rg_decision"] == "positive"
    assert listed[0]["reconsiderations"][0]["outcome"] == "overturned"

    withdrawn = api(caseworker).post(f"{base}/withdraw/", {"reason": "Moving on"}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]
    assert api(caseworker).post(f"{base}/withdraw/", {}, format="json").status_code == 409


def test_readers_who_may_not_change_the_record_do_not_see_the_grounds(
    api, login, caseworker, case, nrm, council, other_agency_caseworker
):
    _negative_rg(caseworker, nrm, 4)
    nrm_services.nrm_reconsideration_request(
        actor=caseworker,
        nrm=_fresh(nrm),
        requested_on=_days_ago(1),
        requested_by="person",
        grounds="What the person told us.",
    )
    referral = services.referral_send(
        actor=caseworker, case=case, to_agency=council, kind="health", reason="GP"
    )
    services.referral_accept(actor=other_agency_caseworker, referral=referral)
    listed = api(other_agency_caseworker).get(f"/api/v1/cases/{case.pk}/nrm/")
    assert listed.status_code == 200
    row = listed.json()[0]["reconsiderations"][0]
    assert row["outcome"] == "pending" and "grounds" not in row
    # The page door: the same rule.
    page = login(other_agency_caseworker).get(f"/referrals/cases/{case.pk}/nrm/")
    assert page.status_code == 200 and "Waiting for the competent authority" in page.text
    assert "What the person told us" not in page.text
    assert (
        "What the person told us" in login(caseworker).get(f"/referrals/cases/{case.pk}/nrm/").text
    )


# --- an adult declines: the MS1 prompt ---------------------------------------------------


def test_an_adult_declining_at_an_agency_under_the_duty_gets_an_ms1_task(
    api, other_agency_caseworker, council, notification_worker
):
    from casework.models import CaseTask
    from notifications.models import Notification

    case = casework.case_create(actor=other_agency_caseworker, exploitation_types=["labour"])
    answered = api(other_agency_caseworker).post(f"/api/v1/cases/{case.pk}/nrm-declined/")
    assert answered.status_code == 201, answered.json()
    notification_worker()
    task = CaseTask.objects.get(case=case)
    assert (task.kind, task.agency_id) == ("file_ms1", council.pk)
    assert task.assignee == case.lead_caseworker == other_agency_caseworker
    assert task.due_on == due_date(timezone.now(), 5, council.country, council.subdivision)
    assert task.reason_key.startswith("nrm_decline:")
    assert Notification.objects.filter(recipient=other_agency_caseworker).exists()
    # Asked again, the open task is the same one.
    nrm_services.nrm_declined(actor=other_agency_caseworker, case=case)
    assert CaseTask.objects.filter(case=case).count() == 1


def test_a_charity_records_the_decline_without_an_ms1_task(caseworker, case):
    from casework.models import CaseTask

    decline = nrm_services.nrm_declined(actor=caseworker, case=case)
    assert decline.agency == caseworker.membership.agency
    assert AuditEvent.objects.filter(action="nrm.declined").exists()
    assert not CaseTask.objects.exists()


def test_a_decline_is_for_an_adult_who_has_not_consented(api, caseworker, case):
    consents.consent_record(actor=caseworker, case=case, scope="nrm_referral", method="written")
    consented = api(caseworker).post(f"/api/v1/cases/{case.pk}/nrm-declined/")
    assert consented.status_code == 409
    assert "withdraw it first" in consented.json()["detail"]
    child = casework.case_create(actor=caseworker, is_child=True, exploitation_types=["criminal"])
    with pytest.raises(IllegalTransition, match="without consent"):
        nrm_services.nrm_declined(actor=caseworker, case=child)
