"""The NRM's rules per UK nation (referrals/jurisdictions.py), table by table:
working days across weekends, the bank holidays that differ between nations (St Andrew's
Day, 12 July) and a year end; the recovery period before a Conclusive Grounds decision;
reconsideration of negative decisions; who files an MS1 and when it may name the person;
and an agency with no NRM."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from agencies import access
from agencies.models import AgencyKind, Role
from agencies.tests.factories import AgencyFactory, member
from casework import consents
from casework import services as casework
from casework.permissions import VIEW_CASE
from referrals import nrm_services
from referrals.calendar import due_date
from referrals.jurisdictions import for_agency
from referrals.models import NRMReferral

pytestmark = pytest.mark.django_db


def opened_by_council(nation: str = "GB-ENG", *, child: bool = True) -> tuple[Any, Any]:
    """A case opened by a local authority's caseworker in ``nation`` (a first responder)."""
    council = AgencyFactory(kind=AgencyKind.LOCAL_AUTHORITY, subdivision=nation)
    worker = member(council, Role.CASEWORKER)
    case = casework.case_create(
        actor=worker, is_child=child, exploitation_types=["criminal" if child else "labour"]
    )
    return worker, case


def seen_by(agency: Any, case: Any) -> None:
    access.grant(actor=None, obj=case, perms=[VIEW_CASE], reason=case, agency=agency)


def local(y: int, m: int, d: int, h: int = 10, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(y, m, d, h, minute))


# (nation, submitted, Reasonable Grounds due): five working days from the day received.
RG_DUE = [
    # A Friday and the Saturday after it: the weekend is received on Monday (the docstring's
    # rule), so the two are not due on the same day.
    ("GB-ENG", local(2026, 11, 20), datetime.date(2026, 11, 27)),
    ("GB-ENG", local(2026, 11, 21), datetime.date(2026, 11, 30)),
    ("GB-ENG", local(2026, 11, 20, 23, 30), datetime.date(2026, 11, 27)),  # the day, not 23:30
    # St Andrew's Day (Monday 30 November 2026) is a bank holiday in Scotland only.
    ("GB-ENG", local(2026, 11, 27), datetime.date(2026, 12, 4)),
    ("GB-WLS", local(2026, 11, 27), datetime.date(2026, 12, 4)),
    ("GB-SCT", local(2026, 11, 27), datetime.date(2026, 12, 7)),
    ("GB-NIR", local(2026, 11, 27), datetime.date(2026, 12, 4)),
    # 12 July (Monday in 2027) in Northern Ireland only.
    ("GB-ENG", local(2027, 7, 9), datetime.date(2027, 7, 16)),
    ("GB-NIR", local(2027, 7, 9), datetime.date(2027, 7, 19)),
    # The year end: Christmas, Boxing Day (Monday 28th), New Year's Day; in Scotland also
    # 2 January (a Saturday in 2027: Monday 4th instead).
    ("GB-ENG", local(2026, 12, 23), datetime.date(2027, 1, 4)),
    ("GB-SCT", local(2026, 12, 23), datetime.date(2027, 1, 5)),
    # A UK agency without a nation is taken as England.
    ("", local(2026, 11, 27), datetime.date(2026, 12, 4)),
]


@pytest.mark.parametrize(("nation", "submitted", "due"), RG_DUE)
def test_the_reasonable_grounds_target_is_a_date_in_the_nations_working_days(
    nation, submitted, due
):
    assert due_date(submitted, 5, "GB", nation) == due
    # The record's clock, by the referring agency's nation (unsaved: some dates are ahead).
    agency = AgencyFactory(kind=AgencyKind.LOCAL_AUTHORITY, subdivision=nation)
    nrm = NRMReferral(agency=agency, submitted_at=submitted)
    assert nrm.rg_due == due
    assert timezone.localtime(nrm.rg_due_at).date() == due  # due by the end of that day


# (nation, minimum recovery period in days before a Conclusive Grounds decision)
RECOVERY = [("GB-ENG", 30), ("GB-WLS", 30), ("GB-SCT", 90), ("GB-NIR", 45)]


@pytest.mark.parametrize(("nation", "days"), RECOVERY)
def test_a_conclusive_grounds_decision_waits_for_the_nations_recovery_period(nation, days):
    worker, case = opened_by_council(nation)
    rg_on = timezone.localdate() - datetime.timedelta(days=days + 5)
    nrm = nrm_services.nrm_refer(
        actor=worker,
        case=case,
        submitted_at=timezone.make_aware(datetime.datetime.combine(rg_on, datetime.time(9))),
    )
    nrm_services.nrm_update(actor=worker, nrm=nrm, rg_decision="positive", rg_decided_on=rg_on)
    assert nrm.recovery_period_ends == rg_on + datetime.timedelta(days=days)
    too_soon = rg_on + datetime.timedelta(days=days - 1)
    with pytest.raises(ValidationError, match="no earlier than the end of the recovery") as error:
        nrm_services.nrm_update(
            actor=worker, nrm=nrm, cg_decision="negative", cg_decided_on=too_soon
        )
    assert f"{days} days" in str(error.value)
    nrm.refresh_from_db()
    assert nrm.cg_decision == "pending"
    on_time = rg_on + datetime.timedelta(days=days)
    nrm_services.nrm_update(actor=worker, nrm=nrm, cg_decision="negative", cg_decided_on=on_time)
    # A negative CG can be reconsidered on request for 30 calendar days.
    assert nrm.reconsideration_deadline == on_time + datetime.timedelta(days=30)


def test_a_negative_reasonable_grounds_decision_opens_the_reconsideration_window():
    worker, case = opened_by_council("GB-SCT")
    nrm = nrm_services.nrm_refer(actor=worker, case=case, submitted_at=local(2026, 11, 2))
    nrm_services.nrm_update(
        actor=worker, nrm=nrm, rg_decision="negative", rg_decided_on=datetime.date(2026, 11, 9)
    )
    assert nrm.reconsideration_deadline == datetime.date(2026, 12, 9)
    assert nrm.recovery_period_ends is None


# Section 52 bodies (and the Home Office by policy) file MS1s; others do not.
MS1_KINDS = [
    (AgencyKind.POLICE, True),
    (AgencyKind.NATIONAL_AGENCY, True),
    (AgencyKind.LABOUR_INSPECTORATE, True),
    (AgencyKind.IMMIGRATION, True),
    (AgencyKind.LOCAL_AUTHORITY, True),
    (AgencyKind.SOCIAL_SERVICES, True),
    (AgencyKind.CHARITY, False),
    (AgencyKind.HEALTH, False),
]


@pytest.mark.parametrize("nation", ["GB-ENG", "GB-WLS", "GB-SCT", "GB-NIR"])
@pytest.mark.parametrize(("kind", "under_the_duty"), MS1_KINDS)
def test_the_bodies_under_the_duty_to_notify_file_an_ms1(nation, kind, under_the_duty):
    _lead, case = opened_by_council(nation, child=False)
    agency = AgencyFactory(kind=kind, subdivision=nation)
    worker = member(agency, Role.OFFICER if kind == AgencyKind.POLICE else Role.CASEWORKER)
    seen_by(agency, case)
    if not under_the_duty:
        with pytest.raises(PermissionDenied, match="duty to notify falls on"):
            nrm_services.duty_to_notify_file(actor=worker, case=case)
        return
    ms1 = nrm_services.duty_to_notify_file(actor=worker, case=case)
    assert ms1.anonymous


def test_an_ms1_names_the_person_only_with_their_consent():
    worker, case = opened_by_council(child=False)
    with pytest.raises(ValidationError, match=r"s\.52\(3\)"):
        nrm_services.duty_to_notify_file(actor=worker, case=case, anonymous=False)
    consents.consent_record(actor=worker, case=case, scope="ms1_named", method="written")
    assert not nrm_services.duty_to_notify_file(actor=worker, case=case, anonymous=False).anonymous


def test_an_agency_outside_the_uk_has_no_nrm():
    agency = AgencyFactory(kind=AgencyKind.POLICE, country="SI", region="Ljubljana")
    assert for_agency(agency) is None
    officer = member(agency, Role.OFFICER)
    _lead, case = opened_by_council()
    seen_by(agency, case)
    with pytest.raises(PermissionDenied, match="no National Referral Mechanism"):
        nrm_services.nrm_refer(actor=officer, case=case)
    with pytest.raises(PermissionDenied, match="no National Referral Mechanism"):
        nrm_services.duty_to_notify_file(actor=officer, case=case)


def test_a_nation_must_belong_to_the_agencys_country():
    from django.core.exceptions import ValidationError as ModelError

    agency = AgencyFactory.build(kind=AgencyKind.POLICE, country="SI", subdivision="GB-SCT")
    with pytest.raises(ModelError, match="one of the agency's country"):
        agency.clean()
    with pytest.raises(ModelError, match="Enter a UK nation"):
        AgencyFactory.build(subdivision="GB-XXX").clean_fields(exclude=["group"])


def test_a_child_has_no_support_contact_clock():
    worker, case = opened_by_council()
    nrm = nrm_services.nrm_refer(actor=worker, case=case, submitted_at=local(2026, 11, 2))
    nrm_services.nrm_update(actor=worker, nrm=nrm, support_allocated_at=local(2026, 11, 3))
    assert nrm.support_allocated_at is not None and nrm.support_contact_due is None


# (nation, CG decision, decided on, support ends on): move-on support after the CG.
MOVE_ON = [
    ("GB-ENG", "positive", datetime.date(2026, 11, 20), datetime.date(2027, 1, 4)),
    # Nine working days after a negative one: over St Andrew's Day in Scotland only.
    ("GB-ENG", "negative", datetime.date(2026, 11, 20), datetime.date(2026, 12, 3)),
    ("GB-SCT", "negative", datetime.date(2026, 11, 20), datetime.date(2026, 12, 4)),
]


@pytest.mark.parametrize(("nation", "decision", "decided", "ends"), MOVE_ON)
def test_support_after_the_conclusive_grounds_decision_ends_by_the_nations_rules(
    nation, decision, decided, ends
):
    agency = AgencyFactory(kind=AgencyKind.LOCAL_AUTHORITY, subdivision=nation)
    nrm = NRMReferral(
        agency=agency,
        submitted_at=local(2026, 8, 3),
        rg_decision="positive",
        rg_decided_on=datetime.date(2026, 8, 7),
        cg_decision=decision,
        cg_decided_on=decided,
    )
    assert nrm.support_ends_on == ends
    nrm.cg_decision, nrm.cg_decided_on = "pending", None
    assert nrm.support_ends_on is None  # support goes on until the CG decision


def test_a_second_nrm_referral_waits_for_the_first_to_conclude():
    from core.errors import IllegalTransition

    worker, case = opened_by_council()
    first = nrm_services.nrm_refer(actor=worker, case=case, submitted_at=local(2026, 11, 2))
    with pytest.raises(IllegalTransition, match="still in progress"):
        nrm_services.nrm_refer(actor=worker, case=case)
    nrm_services.nrm_update(
        actor=worker, nrm=first, rg_decision="negative", rg_decided_on=datetime.date(2026, 11, 6)
    )
    assert nrm_services.nrm_refer(actor=worker, case=case).pk != first.pk


def test_reminders_say_support_goes_on_after_the_recovery_period(notification_worker):
    from notifications.models import Notification

    worker, case = opened_by_council()
    rg_on = timezone.localdate() - datetime.timedelta(days=40)
    nrm = nrm_services.nrm_refer(
        actor=worker,
        case=case,
        submitted_at=timezone.make_aware(datetime.datetime.combine(rg_on, datetime.time(9))),
    )
    nrm_services.nrm_update(actor=worker, nrm=nrm, rg_decision="positive", rg_decided_on=rg_on)
    nrm_services.nrm_send_deadline_reminders()
    notification_worker()
    message = Notification.objects.get(kind="nrm.recovery_ends.passed").message
    assert "support continues until the Conclusive Grounds decision" in message
    assert "deadline has passed" not in message
