"""The cross-agency duplicate person check: hit or no hit, never the other case.

The people: Harbour Trust's caseworker (alice) and the Council's (charlie) each record a
person; Harbour and the Council share the Northshire partnership. Each side learns only
that the other agency may know the person, how to reach it and how strong the match is.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies import access
from agencies.models import Agency, AgencyKind, Role, User
from agencies.tests.factories import AgencyFactory, member
from audit.models import AuditEvent
from casework import duplicates, services
from casework.audit_actions import CaseAction
from casework.models import Case, PossibleDuplicate
from casework.permissions import VIEW_CASE, VIEW_IDENTITY
from core.errors import IllegalTransition
from notifications.models import NotificationEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("partnership")]

BORN = datetime.date(1990, 3, 3)
COUNCIL_CONTACT = "mash@council.example"


@pytest.fixture(autouse=True)
def council_contact(council: Agency) -> Agency:
    council.intelligence_contact = COUNCIL_CONTACT
    council.save(update_fields=["intelligence_contact"])
    return council


def open_case(actor: User, **identity: Any) -> Case:
    return services.case_create(
        actor=actor, exploitation_types=["labour"], identity=identity or None
    )


@pytest.fixture
def at_harbour(caseworker: User) -> Case:
    return open_case(caseworker, given_name="Ana", family_name="Novák", date_of_birth=BORN)


@pytest.fixture
def at_council(other_agency_caseworker: User, at_harbour: Case) -> Case:
    """The Council records the same person, written its own way, after Harbour."""
    return open_case(
        other_agency_caseworker, given_name="ANA", family_name="NOVAK", date_of_birth=BORN
    )


def hits(user: User, case: Case) -> list[tuple[str, str]]:
    return [(hit.other_agency_name, hit.strength) for hit in duplicates.for_case(user, case)]


def row(case: Case) -> PossibleDuplicate:
    return PossibleDuplicate.objects.get(case=case)


# --- Finding ----------------------------------------------------------------------------


def test_the_same_person_written_two_ways_is_an_exact_hit_on_both_sides(
    caseworker, other_agency_caseworker, at_harbour, at_council, harbour, council
):
    assert hits(caseworker, at_harbour) == [(council.name, "exact")]
    assert hits(other_agency_caseworker, at_council) == [(harbour.name, "exact")]
    [hit] = duplicates.for_case(caseworker, at_harbour)
    assert hit.other_agency_contact == COUNCIL_CONTACT
    assert hit.other_agency_id == council.pk


@pytest.mark.parametrize(
    ("given", "family", "strength"),
    [
        ("Ana", "Novack", "likely"),  # a family name that sounds the same
        ("Anna", "Novak", "likely"),  # the given name spelled otherwise
        ("Novák", "Ana", "exact"),  # the names the other way round
        ("  ana ", "NOVÁK", "exact"),
    ],
)
def test_misspellings_and_swapped_names_meet(
    caseworker, other_agency_caseworker, at_harbour, council, given, family, strength
):
    open_case(other_agency_caseworker, given_name=given, family_name=family, date_of_birth=BORN)
    assert hits(caseworker, at_harbour) == [(council.name, strength)]


def test_a_different_person_is_no_hit(caseworker, other_agency_caseworker, at_harbour):
    open_case(other_agency_caseworker, given_name="Ana", family_name="Hoxha", date_of_birth=BORN)
    open_case(
        other_agency_caseworker,
        given_name="Ana",
        family_name="Novák",
        date_of_birth=datetime.date(1990, 3, 4),
    )
    assert hits(caseworker, at_harbour) == []
    assert not PossibleDuplicate.objects.exists()


def test_no_hit_within_the_lead_agency(caseworker, case_manager, at_harbour):
    """The same agency's own cases are the "tell your story once" warning's (reads)."""
    open_case(case_manager, given_name="Ana", family_name="Novák", date_of_birth=BORN)
    assert not PossibleDuplicate.objects.exists()


def test_no_hit_outside_a_partnership_in_force(caseworker, partnership, council, at_harbour):
    refuge = AgencyFactory(name="Southshire Refuge", kind=AgencyKind.CHARITY)
    outsider = member(refuge, Role.CASEWORKER, username="refuge")
    open_case(outsider, given_name="Ana", family_name="Novák", date_of_birth=BORN)
    # The Council's agreement ended yesterday.
    partnership.ends_on = datetime.date.today() - datetime.timedelta(days=1)
    partnership.save(update_fields=["ends_on"])
    charlie = member(council, Role.CASEWORKER, username="council-2")
    open_case(charlie, given_name="Ana", family_name="Novák", date_of_birth=BORN)
    assert not PossibleDuplicate.objects.exists()


@pytest.mark.parametrize(
    "identity",
    [
        {"family_name": "Novák"},
        {"family_name": "Novák", "date_of_birth": BORN},
        {"given_name": "Ana", "family_name": "Novák"},
        {"given_name": "Ana", "date_of_birth": BORN},
    ],
    ids=["family-name", "family-name-and-birth", "names-without-birth", "given-name-and-birth"],
)
def test_no_hit_from_a_half_filled_identity(
    caseworker, other_agency_caseworker, at_harbour, council, identity
):
    other = open_case(other_agency_caseworker, **identity)
    assert not PossibleDuplicate.objects.exists()
    # Completed, it meets.
    services.identity_save(
        actor=other_agency_caseworker,
        case=other,
        given_name="Ana",
        family_name="Novák",
        date_of_birth=BORN,
    )
    assert hits(caseworker, at_harbour) == [(council.name, "exact")]


def test_the_sides_are_asked_again_at_every_read(
    caseworker, other_agency_caseworker, at_harbour, at_council, partnership, harbour
):
    """A lapsed agreement hides the hit; it shows again when the agreement is back. A case
    whose lead moved to the other side's agency is no longer a match across agencies."""
    partnership.ends_on = datetime.date.today() - datetime.timedelta(days=1)
    partnership.save(update_fields=["ends_on"])
    assert hits(caseworker, at_harbour) == []
    assert hits(other_agency_caseworker, at_council) == []
    partnership.ends_on = None
    partnership.save(update_fields=["ends_on"])
    assert len(hits(caseworker, at_harbour)) == 1
    Case.objects.filter(pk=at_council.pk).update(lead_agency=harbour)
    assert hits(caseworker, at_harbour) == []


def test_both_sides_are_audited_without_the_other_case(
    caseworker, other_agency_caseworker, at_harbour, at_council, harbour, council
):
    found = {
        event.case_id: event
        for event in AuditEvent.objects.filter(action=CaseAction.POSSIBLE_DUPLICATE_FOUND).order_by(
            "id"
        )
    }
    assert set(found) == {at_harbour.pk, at_council.pk}
    ours, theirs = found[at_harbour.pk], found[at_council.pk]
    assert ours.detail == {
        "possible_duplicate_id": row(at_harbour).pk,
        "agency_id": council.pk,
        "strength": "exact",
    }
    assert theirs.detail == {
        "possible_duplicate_id": row(at_council).pk,
        "agency_id": harbour.pk,
        "strength": "exact",
    }
    for event, other in ((ours, at_council), (theirs, at_harbour)):
        assert event.target_id == str(event.case_id)
        assert other.reference not in json.dumps(event.detail)
    # The recorder is named on its own case; Harbour's trail names the Council (the
    # detail's agency), never the Council's person.
    assert theirs.actor == other_agency_caseworker
    assert ours.actor is None and ours.actor_agency_id is None


def test_each_sides_lead_caseworker_is_told_which_agency_to_contact(
    caseworker, other_agency_caseworker, at_harbour, at_council, council
):
    """The recorder (the Council's caseworker) sees the hit on the page; Harbour's lead
    caseworker is told, in words that name the agency and its own case only."""
    [event] = NotificationEvent.objects.filter(kind=duplicates.FOUND_NOTIFICATION)
    assert event.recipient_ids == [caseworker.pk]
    assert event.target_id == str(at_harbour.pk)
    assert event.message == (
        f"The person on case {at_harbour.reference} may be known to "
        f"{council.name} ({COUNCIL_CONTACT})"
    )
    assert at_council.reference not in event.message
    assert "Nov" not in event.message and "NOV" not in event.message
    assert event.url == f"/cases/{at_harbour.pk}/#possible-duplicates"


def test_reading_the_hits_takes_one_query_whatever_their_number(
    caseworker, at_harbour, partnership
):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            duplicates.for_case(caseworker, at_harbour, perms=frozenset({VIEW_IDENTITY}))
        return len(captured)

    none = count()
    for n in range(3):
        agency = AgencyFactory(name=f"Refuge {n}", kind=AgencyKind.CHARITY)
        partnership.agencies.add(agency)
        other = member(agency, Role.CASEWORKER, username=f"refuge-{n}")
        open_case(other, given_name="Ana", family_name="Novák", date_of_birth=BORN)
    assert len(duplicates.for_case(caseworker, at_harbour)) == 3
    assert count() == none + 1  # the list's audit row, once


# --- Who reads them ----------------------------------------------------------------------


def test_the_recorder_learns_the_agency_never_the_other_case(
    api, caseworker, at_harbour, at_council, council
):
    response = api(caseworker).get(f"/api/v1/cases/{at_harbour.pk}/possible-duplicates/")
    assert response.status_code == 200
    hit = row(at_harbour)
    assert response.json() == [
        {
            "id": hit.pk,
            "agency": {"id": council.pk, "name": council.name},
            "contact": COUNCIL_CONTACT,
            "strength": "exact",
            "found_at": response.json()[0]["found_at"],
            "dismissed_at": None,
        }
    ]
    text = response.content.decode()
    for secret in (at_council.reference, "NOVAK", "Novák", "ANA", "1990"):
        assert secret not in text
    audit = AuditEvent.objects.filter(action=CaseAction.POSSIBLE_DUPLICATES_LISTED).latest("id")
    assert audit.case_id == at_harbour.pk
    assert audit.detail == {"possible_duplicate_ids": [hit.pk]}


def test_the_case_page_shows_the_same(login, caseworker, at_harbour, at_council, council):
    html = login(caseworker).get(f"/cases/{at_harbour.pk}/").content.decode()
    assert "Possible matches at other agencies" in html
    assert f'href="mailto:{COUNCIL_CONTACT}"' in html
    assert "Exact: the same names and date of birth" in html
    dismiss = f"/cases/{at_harbour.pk}/possible-duplicates/{row(at_harbour).pk}/dismiss/"
    assert f'href="{dismiss}"' in html
    assert at_council.reference not in html
    assert f"/cases/{at_council.pk}/" not in html


def test_no_hit_is_said_so_and_a_half_filled_identity_says_what_is_missing(
    login, caseworker, at_harbour
):
    html = login(caseworker).get(f"/cases/{at_harbour.pk}/").content.decode()
    assert "No possible matches at other agencies in your partnerships." in html
    half = open_case(caseworker, family_name="Novák")
    html = login(caseworker).get(f"/cases/{half.pk}/").content.decode()
    assert "once the given name, family name and date of birth are recorded" in html


def test_404_at_both_doors_without_sight_of_the_identity(
    api, login, police, police_officer, outside_officer, at_harbour, at_council
):
    """The police see the case (a crime report), not who the person is."""
    access.grant(actor=None, obj=at_harbour, perms=[VIEW_CASE], reason=at_harbour, agency=police)
    hit = row(at_harbour)
    for user in (police_officer, outside_officer):
        assert (
            api(user).get(f"/api/v1/cases/{at_harbour.pk}/possible-duplicates/").status_code == 404
        )
        dismiss = f"/cases/{at_harbour.pk}/possible-duplicates/{hit.pk}/dismiss/"
        assert login(user).get(dismiss).status_code == 404
        response = api(user).post(f"/api/v1{dismiss}", {"reason": "x"}, format="json")
        assert response.status_code == 404
    page = login(police_officer).get(f"/cases/{at_harbour.pk}/")
    assert page.status_code == 200
    assert "Possible matches" not in page.content.decode()
    denied = AuditEvent.objects.filter(action="access.denied", case_id=at_harbour.pk)
    assert denied.filter(actor=police_officer, detail__permission=VIEW_IDENTITY).exists()


def test_a_hit_of_another_case_is_404(api, login, caseworker, at_harbour, at_council):
    theirs = row(at_council)
    url = f"/cases/{at_harbour.pk}/possible-duplicates/{theirs.pk}/dismiss/"
    assert login(caseworker).get(url).status_code == 404
    response = api(caseworker).post(f"/api/v1{url}", {"reason": "x"}, format="json")
    assert response.status_code == 404
    assert AuditEvent.objects.filter(
        action="access.denied", actor=caseworker, case_id=at_council.pk
    ).exists()
    theirs.refresh_from_db()
    assert theirs.dismissed_at is None


# --- Not the same person ------------------------------------------------------------------


def dismiss_url(case: Case, api: bool = False) -> str:
    path = f"/cases/{case.pk}/possible-duplicates/{row(case).pk}/dismiss/"
    return f"/api/v1{path}" if api else path


def test_dismissing_needs_a_reason_at_both_doors(api, login, caseworker, at_harbour, at_council):
    response = api(caseworker).post(dismiss_url(at_harbour, True), {"reason": "  "}, format="json")
    assert response.status_code == 400
    assert response.json() == {"reason": ["Say why this is not the same person."]}
    page = login(caseworker).post(dismiss_url(at_harbour), {"reason": ""})
    assert page.status_code == 200
    html = page.content.decode()
    assert "data-error-summary" in html
    assert 'href="#id_reason"' in html and "Say why this is not the same person." in html
    with pytest.raises(ValidationError):
        duplicates.dismiss(actor=caseworker, hit=row(at_harbour), reason=" ")
    assert not PossibleDuplicate.objects.filter(dismissed_at__isnull=False).exists()


def test_who_may_dismiss(api, login, police, police_officer, case_manager, at_harbour, at_council):
    """Those who read the identity but may not change it (an officer granted it) are 403
    at both doors; the lead agency's case manager may."""
    access.grant(
        actor=None,
        obj=at_harbour,
        perms=[VIEW_CASE, VIEW_IDENTITY],
        reason=at_harbour,
        agency=police,
    )
    assert login(police_officer).get(dismiss_url(at_harbour)).status_code == 403
    response = api(police_officer).post(
        dismiss_url(at_harbour, True), {"reason": "x"}, format="json"
    )
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        duplicates.dismiss(actor=police_officer, hit=row(at_harbour), reason="x")
    assert login(case_manager).get(dismiss_url(at_harbour)).status_code == 200


def test_not_the_same_person_closes_the_pair_for_both_sides(
    api, caseworker, other_agency_caseworker, at_harbour, at_council, harbour, council
):
    ours, theirs = row(at_harbour), row(at_council)
    response = api(caseworker).post(
        dismiss_url(at_harbour, True), {"reason": "Born in Tirana, theirs in Brno"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["id"] == ours.pk
    assert response.json()["dismissed_at"] is not None
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.dismissed_by == theirs.dismissed_by == caseworker
    assert ours.dismissed_reason == "Born in Tirana, theirs in Brno"
    assert theirs.dismissed_at == ours.dismissed_at and theirs.dismissed_reason == ""
    assert hits(caseworker, at_harbour) == []
    assert hits(other_agency_caseworker, at_council) == []

    # Audited on both sides, by ids; the reason is not in the trail.
    dismissed = {
        e.case_id: e
        for e in AuditEvent.objects.filter(action=CaseAction.POSSIBLE_DUPLICATE_DISMISSED)
    }
    assert dismissed[at_harbour.pk].detail == {
        "possible_duplicate_id": ours.pk,
        "agency_id": council.pk,
    }
    assert dismissed[at_council.pk].detail == {
        "possible_duplicate_id": theirs.pk,
        "agency_id": harbour.pk,
        "by_other_agency": True,
    }
    # The Council's lead caseworker is told who said so, about their own case.
    [told] = NotificationEvent.objects.filter(kind=duplicates.DISMISSED_NOTIFICATION)
    assert told.recipient_ids == [other_agency_caseworker.pk]
    assert told.message == (
        f"{harbour.name} marked a possible match on case {at_council.reference} as not the "
        "same person"
    )
    assert at_harbour.reference not in told.message and "Tirana" not in told.message

    # Answered once, by either side: 409.
    again = api(caseworker).post(dismiss_url(at_harbour, True), {"reason": "x"}, format="json")
    assert again.status_code == 409
    other_side = api(other_agency_caseworker).post(
        dismiss_url(at_council, True), {"reason": "x"}, format="json"
    )
    assert other_side.status_code == 409
    with pytest.raises(IllegalTransition):
        duplicates.dismiss(actor=caseworker, hit=ours, reason="x")


def test_a_dismissed_pair_is_raised_again_only_when_a_name_or_the_birth_date_changes(
    caseworker, other_agency_caseworker, at_harbour, at_council, harbour, council
):
    duplicates.dismiss(actor=caseworker, hit=row(at_harbour), reason="Not her")
    found_before = AuditEvent.objects.filter(action=CaseAction.POSSIBLE_DUPLICATE_FOUND).count()
    # Unrelated changes: the pair stays answered.
    services.identity_save(actor=caseworker, case=at_harbour, phone="07700 900123")
    services.identity_save(actor=other_agency_caseworker, case=at_council, aliases=["Anka"])
    assert hits(caseworker, at_harbour) == []
    assert PossibleDuplicate.objects.filter(dismissed_at__isnull=False).count() == 2
    assert (
        AuditEvent.objects.filter(action=CaseAction.POSSIBLE_DUPLICATE_FOUND).count()
        == found_before
    )
    # The Council corrects the family name: the details are new, so is the question.
    services.identity_save(actor=other_agency_caseworker, case=at_council, family_name="Novack")
    assert hits(caseworker, at_harbour) == [(council.name, "likely")]
    assert hits(other_agency_caseworker, at_council) == [(harbour.name, "likely")]
    assert not PossibleDuplicate.objects.filter(dismissed_at__isnull=False).exists()


def test_a_changed_identity_that_no_longer_meets_takes_its_hits_away(
    caseworker, other_agency_caseworker, at_harbour, at_council
):
    services.identity_save(actor=caseworker, case=at_harbour, family_name="Hoxha")
    assert not PossibleDuplicate.objects.exists()
    assert hits(other_agency_caseworker, at_council) == []


def test_the_page_form_dismisses_and_says_so(
    login, caseworker, other_agency_caseworker, at_harbour, at_council, council
):
    client = login(caseworker)
    form = client.get(dismiss_url(at_harbour))
    assert form.status_code == 200
    assert council.name in form.content.decode()
    url = dismiss_url(at_harbour)
    response = client.post(url, {"reason": "Different mother's name"}, follow=True)
    assert response.redirect_chain[-1][0].endswith("#possible-duplicates")
    html = response.content.decode()
    assert f"The possible match at {council.name} was marked as not the same person." in html
    assert "No possible matches at other agencies in your partnerships." in html
    # Again: the state does not allow it (the API's 409), said as a message.
    again = client.post(url, {"reason": "x"}, follow=True)
    assert "already marked as not the same person" in again.content.decode()
    assert hits(other_agency_caseworker, at_council) == []


def test_a_match_redone_meanwhile_is_not_answered_with_a_stale_page(
    caseworker, other_agency_caseworker, at_harbour, at_council
):
    """Harbour's page showed the match; the Council then corrected the family name, so the
    match was found again (a new question): the old answer does not close the new one."""
    stale = row(at_harbour)
    services.identity_save(actor=other_agency_caseworker, case=at_council, family_name="Novack")
    with pytest.raises(IllegalTransition, match="no longer current"):
        duplicates.dismiss(actor=caseworker, hit=stale, reason="Not her")
    assert not PossibleDuplicate.objects.filter(dismissed_at__isnull=False).exists()


def test_without_a_lead_caseworker_the_case_managers_are_told(
    harbour, other_agency_caseworker, at_harbour
):
    Case.objects.filter(pk=at_harbour.pk).update(lead_caseworker=None)
    open_case(other_agency_caseworker, given_name="Ana", family_name="Novák", date_of_birth=BORN)
    [event] = NotificationEvent.objects.filter(kind=duplicates.FOUND_NOTIFICATION)
    assert (event.agency_id, event.roles, event.recipient_ids) == (harbour.pk, ["case_manager"], [])
