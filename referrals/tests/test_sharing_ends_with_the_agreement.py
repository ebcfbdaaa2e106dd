"""What a referral granted ends with the partnership agreement behind it.

Accepting after the agreement ended was already refused. These stories are the ones that
were not: a referral accepted (or completed) before the end kept its grants, and
completing after the end granted the summary again. Beat's hourly sweep now takes the
grants back, ends an accepted referral (``ended``), and tells both agencies; completing
outside a partnership in force grants nothing.
"""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings as project_settings
from django.utils import timezone

from agencies import access
from agencies.models import Agency, AgencyKind, Partnership, User
from agencies.tests.factories import AgencyFactory
from audit.models import AuditEvent
from casework import consents
from casework import services as casework
from casework.evidence import services as evidence_services
from casework.models import Case, CaseAgencyGrant
from casework.permissions import VIEW_CASE, VIEW_IDENTITY, VIEW_LOCATION, VIEW_NEEDS
from config.celery import app as celery_app
from notifications.models import NotificationEvent
from referrals import services, tasks
from referrals.models import ReferralKind, ReferralStatus

pytestmark = pytest.mark.django_db


def _end(partnership: Partnership) -> None:
    """The agreement's last day was yesterday."""
    partnership.ends_on = timezone.localdate() - datetime.timedelta(days=1)
    partnership.save(update_fields=["ends_on"])


def _grants_of(agency: Agency) -> int:
    return CaseAgencyGrant.objects.filter(group_id=agency.group_id).count()


def _reads(api, user: User, case: Case) -> dict[str, int]:
    client = api(user)
    return {
        part: client.get(f"/api/v1/cases/{case.pk}/{part}").status_code
        for part in ("", "needs/", "location/", "identity/")
    }


@pytest.fixture
def accepted_bed(caseworker: User, case: Case, council: Agency, other_agency_caseworker: User):
    """Harbour asked the Council for a bed, sharing identity with the person's consent,
    and the Council took it on: it reads the summary, needs, location and identity."""
    casework.location_set(
        actor=caseworker, case=case, accommodation_type="safe_house", address="1 Quay Street"
    )
    consents.consent_record(
        actor=caseworker, case=case, scope="share_identity", agency=council, method="written"
    )
    referral = services.referral_send(
        actor=caseworker,
        case=case,
        to_agency=council,
        kind=ReferralKind.ACCOMMODATION,
        reason="Safe bed tonight",
        share_identity=True,
    )
    return services.referral_accept(actor=other_agency_caseworker, referral=referral)


def test_an_accepted_referral_ends_with_the_agreement_and_a_second_run_changes_nothing(
    api, login, case, council, other_agency_caseworker, caseworker, partnership, accepted_bed
):
    _end(partnership)
    # Until the sweep runs, the grants still count (scoping does not ask the partnership
    # question: see ``services.sharing_end_outside_partnerships``).
    assert set(_reads(api, other_agency_caseworker, case).values()) == {200}

    assert tasks.end_sharing_outside_partnerships() == {"referrals": 1, "transfers": 0}

    accepted_bed.refresh_from_db()
    assert accepted_bed.status == ReferralStatus.ENDED
    assert accepted_bed.closed_at is not None
    assert _grants_of(council) == 0
    council_caseworker = User.objects.get(pk=other_agency_caseworker.pk)
    for perm in (VIEW_CASE, VIEW_NEEDS, VIEW_LOCATION, VIEW_IDENTITY):
        assert not access.can(council_caseworker, perm, case), perm
    assert set(_reads(api, other_agency_caseworker, case).values()) == {404}
    # Harbour, the lead, keeps everything.
    assert set(_reads(api, caseworker, case).values()) == {200}

    ended = AuditEvent.objects.filter(action="referral.ended")
    assert ended.count() == 1
    assert ended.get().detail["was"] == ReferralStatus.ACCEPTED
    assert AuditEvent.objects.filter(action="grant.revoked", actor__isnull=True).exists()
    told = NotificationEvent.objects.filter(kind="referral.ended")
    assert {event.agency.name for event in told} == {"Harbour Trust", "Northshire Council"}
    for event in told:
        assert "Ana" not in event.message  # the agencies' names, never the person's
        assert event.url == f"/referrals/{accepted_bed.pk}/"
    # Both agencies still find the referral, and see why it ended.
    page = login(other_agency_caseworker).get(f"/referrals/{accepted_bed.pk}/")
    assert "Ended: no agreement in force" in page.content.decode()

    assert tasks.end_sharing_outside_partnerships() == {"referrals": 0, "transfers": 0}
    assert AuditEvent.objects.filter(action="referral.ended").count() == 1
    assert NotificationEvent.objects.filter(kind="referral.ended").count() == 2


def test_a_completed_referral_loses_its_summary_when_the_agreement_ends(
    api, case, council, other_agency_caseworker, partnership, accepted_bed
):
    services.referral_complete(actor=other_agency_caseworker, referral=accepted_bed)
    assert _reads(api, other_agency_caseworker, case)[""] == 200
    _end(partnership)

    assert services.sharing_end_outside_partnerships() == 1
    accepted_bed.refresh_from_db()
    assert accepted_bed.status == ReferralStatus.COMPLETED  # what the Council did stands
    assert _grants_of(council) == 0
    assert _reads(api, other_agency_caseworker, case)[""] == 404
    assert services.sharing_end_outside_partnerships() == 0
    assert AuditEvent.objects.filter(action="referral.ended").count() == 1


def test_completing_after_the_agreement_ended_grants_nothing(
    api, login, case, council, other_agency_caseworker, partnership, accepted_bed, caseworker
):
    second = services.referral_send(
        actor=caseworker, case=case, to_agency=council, kind=ReferralKind.HEALTH, reason="GP"
    )
    services.referral_accept(actor=other_agency_caseworker, referral=second)
    _end(partnership)

    answer = api(other_agency_caseworker).post(f"/api/v1/referrals/{accepted_bed.pk}/complete/")
    assert answer.status_code == 200
    assert answer.json()["status"] == ReferralStatus.COMPLETED
    assert AuditEvent.objects.get(action="referral.completed").detail["summary_kept"] is False
    # The bed's grants (location, identity) went at once, and no summary was granted anew.
    council_caseworker = User.objects.get(pk=other_agency_caseworker.pk)
    assert not access.can(council_caseworker, VIEW_LOCATION, case)
    assert not access.can(council_caseworker, VIEW_IDENTITY, case)
    reasons = set(
        CaseAgencyGrant.objects.filter(group_id=council.group_id).values_list(
            "reason_id", flat=True
        )
    )
    assert reasons == {second.pk}  # only the GP referral, until the sweep

    page = login(other_agency_caseworker).post(
        f"/referrals/{second.pk}/answer/", {"action": "complete"}, follow=True
    )
    assert "keeps nothing of the case" in page.content.decode()
    assert _grants_of(council) == 0
    assert _reads(api, other_agency_caseworker, case)[""] == 404


def test_completing_inside_an_agreement_in_force_keeps_the_summary(
    api, case, council, other_agency_caseworker, partnership, accepted_bed
):
    partnership.ends_on = timezone.localdate()  # its last day: still in force
    partnership.save(update_fields=["ends_on"])
    services.referral_complete(actor=other_agency_caseworker, referral=accepted_bed)
    assert AuditEvent.objects.get(action="referral.completed").detail["summary_kept"] is True
    assert _reads(api, other_agency_caseworker, case) == {
        "": 200,
        "needs/": 404,
        "location/": 404,
        "identity/": 404,
    }
    assert services.sharing_end_outside_partnerships() == 0


def test_a_file_whose_prosecutors_left_the_lead_s_partnership_ends(
    api, case, caseworker, partnership, police, police_officer, prosecution, prosecutor
):
    """The sweep asks the lead agency's question too: the police still partner the
    prosecutors, Harbour no longer does."""
    police_cps = Partnership.objects.create(name="Police-CPS", starts_on="2024-01-01")
    police_cps.agencies.set([police, prosecution])
    report = services.referral_send(
        actor=caseworker,
        case=case,
        to_agency=police,
        kind=ReferralKind.POLICE_CRIME_REPORT,
        reason="Report",
    )
    services.referral_accept(actor=police_officer, referral=report)
    outcome = evidence_services.justice_outcome_record(
        actor=police_officer, case=case, crime_recorded=True
    )
    file = services.referral_send(
        actor=police_officer,
        case=case,
        to_agency=prosecution,
        kind=ReferralKind.PROSECUTION_FILE,
        reason="File",
        justice_outcome=outcome,
    )
    services.referral_accept(actor=prosecutor, referral=file)
    partnership.agencies.remove(prosecution)

    assert services.sharing_end_outside_partnerships() == 1
    file.refresh_from_db()
    report.refresh_from_db()
    assert file.status == ReferralStatus.ENDED
    assert report.status == ReferralStatus.ACCEPTED  # Harbour and the police still partner
    assert api(prosecutor).get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert api(police_officer).get(f"/api/v1/cases/{case.pk}/").status_code == 200


def test_referrals_inside_a_partnership_in_force_are_left_alone(
    case, council, other_agency_caseworker, accepted_bed, django_assert_max_num_queries
):
    # Another partnership of the Council's ends: it was never the one the referral used.
    old = Partnership.objects.create(
        name="Old Coast Partnership", starts_on="2020-01-01", ends_on="2023-12-31"
    )
    old.agencies.set([council, AgencyFactory(name="Coast Trust", kind=AgencyKind.CHARITY)])
    with django_assert_max_num_queries(2):  # one query finds them, whatever their number
        assert services.sharing_end_outside_partnerships() == 0
    accepted_bed.refresh_from_db()
    assert accepted_bed.status == ReferralStatus.ACCEPTED
    assert access.can(other_agency_caseworker, VIEW_LOCATION, case)


def test_another_accepted_referral_carrying_the_same_consent_keeps_identity(
    case, caseworker, council, other_agency_caseworker, accepted_bed
):
    """Completing one referral takes back the identity its consent allowed only when no
    other accepted referral of the case to that agency carries the same consent."""
    other = services.referral_send(
        actor=caseworker,
        case=case,
        to_agency=council,
        kind=ReferralKind.HEALTH,
        reason="GP",
        share_identity=True,
    )
    services.referral_accept(actor=other_agency_caseworker, referral=other)
    services.referral_complete(actor=other_agency_caseworker, referral=accepted_bed)
    assert access.can(other_agency_caseworker, VIEW_IDENTITY, case)
    services.referral_complete(actor=other_agency_caseworker, referral=other)
    assert not access.can(other_agency_caseworker, VIEW_IDENTITY, case)


def test_beat_runs_the_sweep_a_minute_past_every_hour():
    entry = project_settings.CELERY_BEAT_SCHEDULE["referrals-end-outside-partnerships"]
    assert entry["task"] == "referrals.tasks.end_sharing_outside_partnerships"
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"].minute == {1}
    assert entry["schedule"].hour == set(range(24))
