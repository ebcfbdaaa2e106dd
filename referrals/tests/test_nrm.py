"""The NRM: who may refer, consent or a child's exemption, MS1, and the clocks."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from agencies.models import AgencyKind, Role
from agencies.tests.factories import AgencyFactory, member
from casework import consents
from casework import services as casework
from referrals import nrm_services, services
from referrals.deadlines import deadlines_for

pytestmark = pytest.mark.django_db


def test_an_adult_needs_consent_a_child_does_not(caseworker, case):
    with pytest.raises(ValidationError) as error:
        nrm_services.nrm_refer(actor=caseworker, case=case)
    assert "Duty to Notify" in error.value.message_dict["consent"][0]
    consents.consent_record(actor=caseworker, case=case, scope="nrm_referral", method="written")
    assert nrm_services.nrm_refer(actor=caseworker, case=case).consent is not None

    child = casework.case_create(actor=caseworker, is_child=True)
    assert nrm_services.nrm_refer(actor=caseworker, case=child).consent is None


def test_only_first_responders_refer():
    health = AgencyFactory(kind=AgencyKind.HEALTH, is_first_responder=False)
    nurse = member(health, Role.CASEWORKER, username="nurse")
    case = casework.case_create(actor=nurse, is_child=True)
    with pytest.raises(PermissionDenied, match="first-responder"):
        nrm_services.nrm_refer(actor=nurse, case=case)


def test_duty_to_notify_is_for_police_and_local_authorities_and_adults_without_consent(
    caseworker, case, council
):
    with pytest.raises(PermissionDenied):
        nrm_services.duty_to_notify_file(actor=caseworker, case=case)  # a charity
    social_worker = member(council, Role.CASEWORKER, username="sw")
    council_case = casework.case_create(actor=social_worker)
    ms1 = nrm_services.duty_to_notify_file(actor=social_worker, case=council_case)
    assert ms1.anonymous
    child = casework.case_create(actor=social_worker, is_child=True)
    with pytest.raises(ValidationError, match="Children"):
        nrm_services.duty_to_notify_file(actor=social_worker, case=child)
    consents.consent_record(
        actor=social_worker, case=council_case, scope="nrm_referral", method="verbal"
    )
    with pytest.raises(ValidationError, match="make the referral"):
        nrm_services.duty_to_notify_file(actor=social_worker, case=council_case)


def test_clocks_and_decisions(caseworker, case, settings):
    consents.consent_record(actor=caseworker, case=case, scope="nrm_referral", method="written")
    monday = timezone.make_aware(datetime.datetime(2026, 11, 16, 9, 0))
    nrm = nrm_services.nrm_refer(actor=caseworker, case=case, submitted_at=monday)
    assert nrm.rg_due == datetime.date(2026, 11, 23)

    with pytest.raises(ValidationError) as error:
        nrm_services.nrm_update(actor=caseworker, nrm=nrm, rg_decision="positive")
    assert "rg_decided_on" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        nrm_services.nrm_update(
            actor=caseworker,
            nrm=nrm,
            cg_decision="positive",
            cg_decided_on=datetime.date(2026, 11, 18),
        )
    assert "cg_decision" in error.value.message_dict

    nrm.refresh_from_db()
    nrm_services.nrm_update(
        actor=caseworker, nrm=nrm, rg_decision="positive", rg_decided_on=datetime.date(2026, 11, 20)
    )
    assert nrm.recovery_period_ends == datetime.date(2026, 12, 20)
    assert nrm.reconsideration_deadline is None

    allocated = timezone.make_aware(datetime.datetime(2026, 11, 20, 12, 0))
    # The 48-hour clock runs for an adult who asked for support: not before.
    with pytest.raises(ValidationError, match="consent to NRM support"):
        nrm_services.nrm_update(actor=caseworker, nrm=nrm, support_allocated_at=allocated)
    consents.consent_record(actor=caseworker, case=case, scope="nrm_support", method="written")
    nrm_services.nrm_update(actor=caseworker, nrm=nrm, support_allocated_at=allocated)
    assert nrm.support_contact_due == allocated + datetime.timedelta(hours=48)


def test_negative_rg_opens_a_reconsideration_window(caseworker, case):
    consents.consent_record(actor=caseworker, case=case, scope="nrm_referral", method="written")
    nrm = nrm_services.nrm_refer(
        actor=caseworker, case=case, submitted_at=timezone.now() - datetime.timedelta(days=10)
    )
    decided = timezone.localdate() - datetime.timedelta(days=2)
    nrm_services.nrm_update(
        actor=caseworker, nrm=nrm, rg_decision="negative", rg_decided_on=decided
    )
    assert nrm.reconsideration_deadline == decided + datetime.timedelta(days=30)


def test_deadlines_list_overdue_first(caseworker, case, council, other_agency_caseworker):
    consents.consent_record(actor=caseworker, case=case, scope="nrm_referral", method="written")
    nrm_services.nrm_refer(
        actor=caseworker, case=case, submitted_at=timezone.now() - datetime.timedelta(days=10)
    )
    services.referral_send(
        actor=caseworker,
        case=case,
        to_agency=council,
        kind="health",
        reason="GP",
        urgency="emergency",
    )

    mine = deadlines_for(caseworker)
    assert [d.kind for d in mine] == ["nrm_rg_due"] and mine[0].overdue
    theirs = deadlines_for(other_agency_caseworker)
    assert [d.kind for d in theirs] == ["referral_response"] and not theirs[0].overdue


def test_nrm_clocks_send_reminders_once(caseworker, case, notification_worker):
    from notifications.models import Notification

    def remind(**kwargs):
        nrm_services.nrm_send_deadline_reminders(**kwargs)
        notification_worker()

    consents.consent_record(actor=caseworker, case=case, scope="nrm_referral", method="written")
    nrm = nrm_services.nrm_refer(actor=caseworker, case=case)
    remind()
    assert not Notification.objects.exists()  # five working days away
    just_before = nrm.rg_due_at - datetime.timedelta(hours=2)
    remind(now=just_before)
    remind(now=just_before)  # again: nothing new
    assert Notification.objects.count() == 1
    remind(now=nrm.rg_due_at + datetime.timedelta(hours=1))
    assert Notification.objects.count() == 2
    kinds = list(
        Notification.objects.filter(recipient=caseworker)
        .values_list("kind", flat=True)
        .order_by("id")
    )
    assert kinds == ["nrm.rg_due.approaching", "nrm.rg_due.passed"]
    assert case.reference in Notification.objects.filter(kind="nrm.rg_due.passed").get().message
