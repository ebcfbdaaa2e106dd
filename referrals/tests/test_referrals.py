"""Referral life: transitions, response times, and exactly the access each step gives."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from agencies import access
from casework import consents
from core.errors import IllegalTransition
from notifications.models import Notification
from referrals import services
from referrals.models import Referral, ReferralStatus

pytestmark = pytest.mark.django_db


def can(user, perm, case):
    user.refresh_from_db()
    return access.can(user, perm, case)


def send(caseworker, case, to, **extra):
    fields = {
        "kind": "accommodation",
        "reason": "Needs a safe bed tonight",
        "urgency": "routine",
        **extra,
    }
    return services.referral_send(actor=caseworker, case=case, to_agency=to, **fields)


def test_sending_grants_nothing_and_tells_the_receiving_agency(
    caseworker, case, council, other_agency_caseworker, council_manager, notification_worker
):
    referral = send(caseworker, case, council, urgency="emergency")
    notification_worker()
    assert referral.status == ReferralStatus.SENT
    assert referral.respond_by - referral.sent_at == datetime.timedelta(hours=4)
    assert not can(other_agency_caseworker, "casework.view_case", case)
    told = set(
        Notification.objects.filter(kind="referral.received").values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {"charlie", "council-manager"}
    message = Notification.objects.filter(kind="referral.received").first().message
    assert message == "A new emergency referral is waiting for Northshire Council"
    assert "Ana" not in message


def test_accepting_an_accommodation_referral_opens_summary_needs_and_location_only(
    caseworker, case, council, other_agency_caseworker, notification_worker
):
    referral = send(caseworker, case, council)
    services.referral_accept(actor=other_agency_caseworker, referral=referral)
    assert can(other_agency_caseworker, "casework.view_case", case)
    assert can(other_agency_caseworker, "casework.view_case_needs", case)
    assert can(other_agency_caseworker, "casework.view_case_location", case)
    for hidden in (
        "casework.view_case_identity",
        "casework.view_case_documents",
        "casework.view_case_notes",
        "casework.change_case",
    ):
        assert not can(other_agency_caseworker, hidden, case), hidden
    notification_worker()
    assert Notification.objects.filter(kind="referral.accepted", recipient=caseworker).exists()


def test_other_kinds_never_open_the_location(caseworker, case, council, other_agency_caseworker):
    referral = send(caseworker, case, council, kind="health")
    services.referral_accept(actor=other_agency_caseworker, referral=referral)
    assert can(other_agency_caseworker, "casework.view_case_needs", case)
    assert not can(other_agency_caseworker, "casework.view_case_location", case)


def test_identity_travels_only_with_a_consent_naming_the_agency_and_goes_with_it(
    caseworker, case, council, other_agency_caseworker
):
    with pytest.raises(ValidationError) as error:
        send(caseworker, case, council, share_identity=True)
    assert "share_identity" in error.value.message_dict

    consent = consents.consent_record(
        actor=caseworker, case=case, scope="share_identity", agency=council, method="written"
    )
    referral = send(caseworker, case, council, share_identity=True)
    services.referral_accept(actor=other_agency_caseworker, referral=referral)
    assert can(other_agency_caseworker, "casework.view_case_identity", case)

    consents.consent_withdraw(actor=caseworker, consent=consent, reason="changed her mind")
    assert not can(other_agency_caseworker, "casework.view_case_identity", case)
    assert can(other_agency_caseworker, "casework.view_case", case)  # the referral itself stands


def test_completing_leaves_read_only_summary(caseworker, case, council, other_agency_caseworker):
    consents.consent_record(
        actor=caseworker, case=case, scope="share_identity", agency=council, method="written"
    )
    referral = send(caseworker, case, council, share_identity=True)
    services.referral_accept(actor=other_agency_caseworker, referral=referral)
    services.referral_complete(actor=other_agency_caseworker, referral=referral)
    assert can(other_agency_caseworker, "casework.view_case", case)
    for gone in (
        "casework.view_case_needs",
        "casework.view_case_location",
        "casework.view_case_identity",
    ):
        assert not can(other_agency_caseworker, gone, case), gone


def test_declining_and_withdrawing_grant_nothing(
    caseworker, case, council, other_agency_caseworker
):
    declined = send(caseworker, case, council)
    with pytest.raises(ValidationError):
        services.referral_decline(actor=other_agency_caseworker, referral=declined, reason=" ")
    services.referral_decline(actor=other_agency_caseworker, referral=declined, reason="No beds")
    withdrawn = send(caseworker, case, council)
    services.referral_withdraw(actor=caseworker, referral=withdrawn)
    assert not can(other_agency_caseworker, "casework.view_case", case)
    with pytest.raises(IllegalTransition):
        services.referral_accept(actor=other_agency_caseworker, referral=declined)
    with pytest.raises(IllegalTransition):
        services.referral_accept(actor=other_agency_caseworker, referral=withdrawn)


def test_who_may_do_what(
    caseworker, case, council, police, other_agency_caseworker, police_officer, manager
):
    referral = send(caseworker, case, council)
    with pytest.raises(PermissionDenied):
        services.referral_accept(actor=caseworker, referral=referral)  # the sender
    with pytest.raises(PermissionDenied):
        services.referral_accept(actor=manager, referral=referral)  # right agency, wrong role
    with pytest.raises(PermissionDenied):
        services.referral_withdraw(actor=other_agency_caseworker, referral=referral)
    with pytest.raises(PermissionDenied):
        send(other_agency_caseworker, case, police, kind="police_crime_report")  # not the lead
    with pytest.raises(ValidationError) as error:
        send(caseworker, case, council, kind="police_crime_report")
    assert "police" in error.value.message_dict["to_agency"][0]


def test_a_police_crime_report_is_how_a_force_comes_to_see_a_case(
    caseworker, case, police, police_officer
):
    referral = send(
        caseworker,
        case,
        police,
        kind="police_crime_report",
        reason="Wants to report the gangmaster",
    )
    services.referral_accept(actor=police_officer, referral=referral)
    assert can(police_officer, "casework.view_case", case)
    assert not can(police_officer, "casework.view_case_location", case)


def test_overdue_referrals_are_told_once_and_old_ones_expire(
    caseworker, case, council, other_agency_caseworker, settings, notification_worker
):
    referral = send(caseworker, case, council, urgency="urgent")
    later = referral.respond_by + datetime.timedelta(minutes=1)
    assert services.referrals_flag_overdue(now=later) == 1
    assert services.referrals_flag_overdue(now=later) == 0
    notification_worker()
    told = set(
        Notification.objects.filter(kind="referral.overdue").values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {"charlie", "alice"}  # the Council's caseworker and the sender
    assert services.referrals_expire(now=later) == 0
    much_later = referral.respond_by + datetime.timedelta(
        days=settings.REFERRAL_EXPIRE_DAYS, minutes=1
    )
    assert services.referrals_expire(now=much_later) == 1
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.EXPIRED


def test_the_list_is_referrals_to_or_from_the_agency(
    caseworker, case, council, police, other_agency_caseworker
):
    to_council = send(caseworker, case, council)
    send(caseworker, case, police, kind="police_crime_report")
    council_agency = other_agency_caseworker.membership.agency_id
    assert list(Referral.objects.for_agency(council_agency)) == [to_council]


def test_respond_by_counts_working_days(caseworker, case, council, monkeypatch):
    friday = timezone.make_aware(datetime.datetime(2026, 11, 20, 15, 0))
    monkeypatch.setattr("referrals.services.timezone.now", lambda: friday)
    referral = send(caseworker, case, council, urgency="urgent")
    assert timezone.localtime(referral.respond_by) == timezone.localtime(
        friday
    ) + datetime.timedelta(days=3)
