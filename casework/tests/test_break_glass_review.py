"""Who reviews a break-glass: the lead agency's case managers, else its
agency admins, else the partnership's managers; every one of them told at once, with no
personal data; nobody to review, no opening. A reviewer who does not see the case (a
partnership manager) reviews the event, never the person."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from agencies import access
from agencies.models import Agency, AgencyKind, Partnership, Role, User
from agencies.tests.factories import AgencyFactory, member
from audit.models import AuditEvent
from casework import reads, services
from casework.evidence import break_glass
from casework.evidence import reads as evidence_reads
from casework.models import (
    BreakGlassEvent,
    BreakGlassGrounds,
    BreakGlassReviewTier,
    Case,
    CaseUserGrant,
)
from casework.tasks import remind_break_glass_reviewers

pytestmark = pytest.mark.django_db
THREAT = BreakGlassGrounds.THREAT_TO_LIFE

Tier = BreakGlassReviewTier
REASON = "Caller reports the gangmaster outside the safe house now"


def fresh(user: User) -> User:
    """The user as the next request loads them (personal grants included)."""
    from agencies.backends import MembershipBackend

    return MembershipBackend().get_user(user.pk)


@pytest.fixture
def ljubljana(partnership: Partnership) -> Agency:
    agency = AgencyFactory(name="Ljubljana Police Directorate", kind=AgencyKind.POLICE)
    partnership.agencies.add(agency)
    return agency


@pytest.fixture
def ljubljana_officer(ljubljana: Agency) -> User:
    return member(ljubljana, Role.OFFICER, username="ljubljana.officer")


@pytest.fixture
def council_case(other_agency_caseworker: User, partnership: Partnership) -> Case:
    """Led by Northshire Council, which has a caseworker and no case manager."""
    case = services.case_create(
        actor=other_agency_caseworker, identity={"given_name": "Mira", "family_name": "Novak"}
    )
    services.location_set(
        actor=other_agency_caseworker,
        case=case,
        accommodation_type="safe_house",
        address="7 Harbour Row",
    )
    return case


def _told(user: User, kind: str = "breakglass.opened") -> list[str]:
    return list(user.notifications.filter(kind=kind).values_list("message", flat=True))


# --- The scenario ---------------------------------------------------------------


def test_a_council_case_without_case_managers_is_reviewed_by_the_councils_admins(
    council_case,
    ljubljana_officer,
    other_agency_admin,
    manager,
    other_agency_caseworker,
    notification_worker,
    api,
):
    """Once, nobody was told and nobody could ever review this opening."""
    event = break_glass.break_glass_open(
        actor=ljubljana_officer, case=council_case, grounds=THREAT, reason=REASON
    )
    assert event.review_tier == Tier.AGENCY_ADMINS
    assert event.lead_agency == council_case.lead_agency
    assert evidence_reads.break_glass_reviewers(event).people == (other_agency_admin,)

    notification_worker()
    message = f"A break-glass on case {council_case.reference} needs your review"
    assert _told(other_agency_admin) == [message]
    notification = other_agency_admin.notifications.get(kind="breakglass.opened")
    assert notification.url == f"/cases/break-glass/{event.pk}/"
    # The next tier is not told while this one has people; neither is the caseworker.
    assert _told(manager) == [] and _told(other_agency_caseworker) == []
    # The email carries the reference and a link: no names, no reason.
    (email,) = [m for m in mail.outbox if other_agency_admin.email in m.to]
    for personal in ("Mira", "Novak", "gangmaster", "Ljubljana", ljubljana_officer.last_name):
        assert personal not in email.subject and personal not in email.body

    reviewed = api(other_agency_admin).post(
        f"/api/v1/break-glass/{event.pk}/review/", {"note": "Justified"}, format="json"
    )
    assert reviewed.status_code == 200, reviewed.content
    event.refresh_from_db()
    assert event.reviewed_by == other_agency_admin


def test_with_no_admin_either_the_partnership_managers_review_without_sight_of_the_person(
    council_case, ljubljana_officer, manager, notification_worker, login, api
):
    event = break_glass.break_glass_open(
        actor=ljubljana_officer, case=council_case, grounds=THREAT, reason=REASON
    )
    assert event.review_tier == Tier.PARTNERSHIP_MANAGERS
    assert list(event.partnerships.all()) == list(Partnership.objects.all())
    notification_worker()
    assert _told(manager) == [f"A break-glass on case {council_case.reference} needs your review"]

    # The officer reads the identity and the safe house while the glass is open.
    officer = fresh(ljubljana_officer)
    assert reads.identity(officer, council_case).family_name == "Novak"
    reads.location(officer, council_case)

    browser = login(manager)
    page = browser.get(f"/cases/break-glass/{event.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert council_case.reference in html and "Viewed the identity" in html
    # The grounds, never the free text (test_break_glass_reason_privacy.py).
    assert "Threat to life" in html and REASON not in html
    for personal in ("Mira", "Novak", "7 Harbour Row", "Harbour Row"):
        assert personal not in html
    assert f"/cases/{council_case.pk}/" not in html  # no link to a case they cannot open
    assert browser.get(f"/cases/{council_case.pk}/").status_code == 404
    assert api(manager).get(f"/api/v1/cases/{council_case.pk}/identity/").status_code == 404

    detail = api(manager).get(f"/api/v1/break-glass/{event.pk}/")
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "Novak" not in body and "Harbour Row" not in body
    assert {read["action"] for read in detail.json()["reads"]} == {
        "identity.viewed",
        "location.viewed",
    }

    assert browser.post(f"/cases/break-glass/{event.pk}/", {"note": ""}).status_code == 200
    done = browser.post(f"/cases/break-glass/{event.pk}/", {"note": "Justified: logged call"})
    assert done.status_code == 302
    event.refresh_from_db()
    assert event.reviewed_by == manager and event.review_note == "Justified: logged call"
    # Reviewing gave the manager no grant on the case.
    assert not access.can(fresh(manager), "casework.view_case", council_case)


def test_nobody_to_review_refuses_the_break_glass_and_grants_nothing(
    council_case, ljubljana_officer, api
):
    """The Council has only a caseworker and the partnership no manager."""
    with pytest.raises(ValidationError, match="Nobody could review"):
        break_glass.break_glass_open(
            actor=ljubljana_officer, case=council_case, grounds=THREAT, reason=REASON
        )
    answer = api(ljubljana_officer).post(
        f"/api/v1/cases/{council_case.pk}/break-glass/",
        {"grounds": THREAT, "reason": REASON},
        format="json",
    )
    assert answer.status_code == 400
    assert "Nobody could review" in answer.json()["non_field_errors"][0]
    assert not BreakGlassEvent.objects.exists()
    assert not CaseUserGrant.objects.filter(user=ljubljana_officer).exists()
    assert (
        api(ljubljana_officer).get(f"/api/v1/cases/{council_case.pk}/identity/").status_code == 404
    )
    refusals = AuditEvent.objects.filter(
        action="breakglass.refused", actor=ljubljana_officer, case_id=council_case.pk
    )
    assert [e.detail for e in refusals] == [{"why": "no_reviewer"}] * 2


def test_an_inactive_admin_or_agency_is_nobody(
    council_case, ljubljana_officer, other_agency_admin, manager
):
    other_agency_admin.is_active = False
    other_agency_admin.save(update_fields=["is_active"])
    event = break_glass.break_glass_open(
        actor=ljubljana_officer, case=council_case, grounds=THREAT, reason=REASON
    )
    assert event.review_tier == Tier.PARTNERSHIP_MANAGERS
    assert evidence_reads.break_glass_reviewers(event).people == (manager,)


def test_a_partnership_manager_of_the_breakers_own_agency_never_reviews(
    council_case, police, police_officer, manager, notification_worker, api, login
):
    """The Council (lead) has no case manager and no admin: the duty falls to the
    partnership's managers, but never to the police's own manager. Before the review,
    the officer's colleague was told and could review the opening."""
    police_manager = member(police, Role.PARTNERSHIP_MANAGER, username="police-manager")
    event = break_glass.break_glass_open(
        actor=police_officer, case=council_case, grounds=THREAT, reason=REASON
    )
    assert event.review_tier == Tier.PARTNERSHIP_MANAGERS
    assert evidence_reads.break_glass_reviewers(event).people == (manager,)
    assert not evidence_reads.break_glass_may_review(fresh(police_manager), event)  # the SQL twin
    assert evidence_reads.break_glass_may_review(fresh(manager), event)
    notification_worker()
    assert _told(manager) and not _told(police_manager)

    url, page = f"/api/v1/break-glass/{event.pk}/review/", f"/cases/break-glass/{event.pk}/"
    assert api(police_manager).post(url, {"note": "Fine"}, format="json").status_code == 404
    assert login(police_manager).post(page, {"note": "Fine"}).status_code == 404
    assert api(police_manager).get("/api/v1/break-glass/to-review/").json()["results"] == []
    assert api(manager).post(url, {"note": "Justified"}, format="json").status_code == 200


def test_with_only_the_breakers_own_manager_left_nobody_reviews_and_nothing_opens(
    council_case, police, police_officer, api
):
    member(police, Role.PARTNERSHIP_MANAGER, username="police-manager")
    with pytest.raises(ValidationError, match="Nobody could review"):
        break_glass.break_glass_open(
            actor=police_officer, case=council_case, grounds=THREAT, reason=REASON
        )
    assert not BreakGlassEvent.objects.exists()
    assert not CaseUserGrant.objects.filter(user=police_officer).exists()


def test_the_lead_agencys_case_managers_review_a_colleague_on_their_own_case(
    case, case_manager, agency_admin
):
    """The lead-agency tiers keep the breaker's agency when it is the lead: a case
    manager's opening on their own case is reviewed by their colleagues there (the
    breaker never), the agency answering for its own case."""
    colleague = member(case.lead_agency, Role.CASE_MANAGER, username="colleague-manager")
    event = break_glass.break_glass_open(
        actor=case_manager, case=case, grounds=THREAT, reason=REASON
    )
    assert event.review_tier == Tier.CASE_MANAGERS
    assert evidence_reads.break_glass_reviewers(event).people == (colleague,)
    assert not evidence_reads.break_glass_may_review(fresh(case_manager), event)
    assert not evidence_reads.break_glass_may_review(fresh(agency_admin), event)


# --- Every reviewer at once, and only they --------------------------------------------------


def test_every_case_manager_of_the_lead_is_told_and_each_may_review(
    case, partnership, police_officer, case_manager, agency_admin, notification_worker
):
    second = member(case.lead_agency, Role.CASE_MANAGER, username="second-manager")
    event = break_glass.break_glass_open(
        actor=police_officer, case=case, grounds=THREAT, reason=REASON
    )
    assert event.review_tier == Tier.CASE_MANAGERS
    assert evidence_reads.break_glass_reviewers(event).people == (case_manager, second)
    notification_worker()
    assert _told(case_manager) and _told(second) and not _told(agency_admin)
    # The admin is a later tier: not theirs while the case managers are there.
    with pytest.raises(PermissionDenied):
        break_glass.break_glass_review(actor=agency_admin, event=event, note="Seen")
    break_glass.break_glass_review(actor=second, event=event, note="Justified")


def test_the_breaker_never_reviews_their_own_opening(case, case_manager, agency_admin, api):
    event = break_glass.break_glass_open(
        actor=case_manager, case=case, grounds=THREAT, reason=REASON
    )
    assert event.review_tier == Tier.AGENCY_ADMINS
    with pytest.raises(PermissionDenied):
        break_glass.break_glass_review(actor=case_manager, event=event, note="Fine")
    url = f"/api/v1/break-glass/{event.pk}/review/"
    assert api(case_manager).post(url, {"note": "Fine"}, format="json").status_code == 403
    assert api(case_manager).get(f"/api/v1/break-glass/{event.pk}/").status_code == 200
    assert api(agency_admin).post(url, {"note": "Justified"}, format="json").status_code == 200


def test_the_people_told_stay_the_reviewers_when_a_case_manager_joins_later(
    case, partnership, police_officer, agency_admin
):
    event = break_glass.break_glass_open(
        actor=police_officer, case=case, grounds=THREAT, reason=REASON
    )
    assert event.review_tier == Tier.AGENCY_ADMINS  # Harbour has no case manager yet
    newcomer = member(case.lead_agency, Role.CASE_MANAGER, username="newcomer")
    assert evidence_reads.break_glass_reviewers(event).people == (agency_admin,)
    assert not evidence_reads.break_glass_may_review(newcomer, event)
    with pytest.raises(PermissionDenied):
        break_glass.break_glass_review(actor=newcomer, event=event, note="Seen")
    break_glass.break_glass_review(actor=agency_admin, event=event, note="Justified")


def test_the_duty_falls_to_the_next_tier_only_when_its_own_empties(
    case, partnership, police_officer, case_manager, agency_admin, manager, notification_worker
):
    event = break_glass.break_glass_open(
        actor=police_officer, case=case, grounds=THREAT, reason=REASON
    )
    assert event.review_tier == Tier.CASE_MANAGERS
    late_admin = member(case.lead_agency, Role.AGENCY_ADMIN, username="late-admin")
    people = [case_manager, agency_admin, late_admin, manager, police_officer]

    def reviewing() -> set[User]:
        # The SQL twin (task lists, the review check) says what the Python answer says.
        return {u for u in people if evidence_reads.break_glass_may_review(fresh(u), event)}

    assert set(evidence_reads.break_glass_reviewers(event).people) == reviewing() == {case_manager}

    # The lone case manager leaves: the duty falls to the admins at once...
    case_manager.is_active = False
    case_manager.save(update_fields=["is_active"])
    assert evidence_reads.break_glass_reviewers(event).tier == Tier.AGENCY_ADMINS
    assert set(evidence_reads.break_glass_reviewers(event).people) == reviewing()
    assert reviewing() == {agency_admin, late_admin}
    # ...and beat stores the move and tells them (once, however often it runs).
    remind_break_glass_reviewers()
    remind_break_glass_reviewers()
    event.refresh_from_db()
    assert event.review_tier == Tier.AGENCY_ADMINS
    notification_worker()
    assert len(_told(agency_admin)) == 1 and len(_told(late_admin)) == 1
    assert AuditEvent.objects.filter(action="breakglass.review_moved").count() == 1

    # Harbour is switched off: the partnership's manager reviews.
    Agency.objects.filter(pk=case.lead_agency_id).update(active=False)
    assert evidence_reads.break_glass_reviewers(event).people == (manager,)
    assert reviewing() == {manager}
    break_glass.break_glass_review(actor=manager, event=event, note="Justified")
    event.refresh_from_db()
    assert event.reviewed_by == manager


def test_an_event_is_hidden_from_everyone_but_its_breaker_reviewers_and_lead(
    case, partnership, police_officer, case_manager, caseworker, analyst, manager, login
):
    event = break_glass.break_glass_open(
        actor=police_officer, case=case, grounds=THREAT, reason=REASON
    )
    url = f"/cases/break-glass/{event.pk}/"
    assert login(police_officer).get(url).status_code == 200
    assert login(case_manager).get(url).status_code == 200
    for stranger in (caseworker, analyst, manager):
        assert login(stranger).get(url).status_code == 404
    assert AuditEvent.objects.filter(
        action="access.denied", actor=manager, target_id=str(event.pk)
    ).exists()
    assert login(manager).get("/cases/break-glass/999999/").status_code == 404
    # A role that never reviews is refused before the event is looked up.
    assert login(police_officer).post(url, {"note": "Mine"}).status_code == 403
    assert login(analyst).post("/cases/break-glass/999999/", {"note": "x"}).status_code == 403
