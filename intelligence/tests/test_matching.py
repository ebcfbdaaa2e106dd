"""Matching: the same entity in two agencies' submitted reports.

Each side is told only when its agency may read the other report (the audience rule of
reading: status, distribution and TLP; ``test_match_audience`` holds the TLP:RED story).
Content never travels: a side that is told learns the kind of entity and whom to contact.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from agencies.models import Agency, User
from audit.models import AuditEvent
from intelligence import matching, reads, reports
from intelligence.models import Match, MatchingJob
from notifications.models import NotificationEvent

PHONE = [{"kind": "phone", "value": "07911 123456"}]
SAME_PHONE = [{"kind": "phone", "value": "+44 7911 123 456"}]


def events() -> list[NotificationEvent]:
    return list(NotificationEvent.objects.filter(kind="intelligence.match").order_by("id"))


@pytest.fixture
def police_report(make_report: Any, analyst: User) -> Any:
    """The police's report on a phone number, kept to the police."""
    return make_report(analyst, distribution="agency", entities=PHONE)


def test_a_later_report_matches_and_the_earlier_agency_is_told(
    police_report: Any, make_report: Any, caseworker: User, police: Agency
) -> None:
    charity_report = make_report(caseworker, entities=SAME_PHONE)
    match = Match.objects.get()
    assert (match.new_report, match.existing_report) == (charity_report, police_report)
    assert (match.kind, match.normalised) == ("phone", "+447911123456")
    assert match.existing_agency_told and not match.new_agency_told

    told = events()
    # The police's analysts, and the report's author (the same key: told once).
    assert {(e.agency_id, tuple(e.roles), tuple(e.recipient_ids)) for e in told} == {
        (police.pk, ("analyst",), ()),
        (None, (), (police_report.author_id,)),
    }
    for event in told:
        assert event.message == (
            "Another agency has reported on this phone number. Contact: Harbour Trust."
        )
        assert event.url == matching.MATCH_INBOX_URL
    audited = AuditEvent.objects.for_target(match).get(action="intelligence.match_created")
    assert audited.detail["kind"] == "phone"
    assert "7911" not in str(audited.detail)


def test_notifications_carry_no_content(make_report: Any, analyst: User, caseworker: User) -> None:
    make_report(
        analyst,
        distribution="agency",
        entities=[
            {"kind": "person", "value": "Jan Kowalski, 1984-03-09"},
            {"kind": "vehicle", "value": "AB12 CDE"},
        ],
    )
    charity = make_report(
        caseworker,
        entities=[
            {"kind": "person", "value": "jan kowalski, 1984-03-09"},
            {"kind": "vehicle", "value": "ab12cde"},
        ],
    )
    messages = {e.message for e in events()}
    assert messages == {
        "Another agency has reported on this person of interest. Contact: Harbour Trust.",
        "Another agency has reported on this vehicle registration. Contact: Harbour Trust.",
    }
    for forbidden in ("Kowalski", "kowalski", "1984", "AB12", "Car wash", charity.title):
        assert all(forbidden not in m for m in messages)


def test_matching_works_in_both_directions(
    make_report: Any, caseworker: User, analyst: User, harbour: Agency
) -> None:
    # The charity reported first, kept to itself; the police name the same phone later.
    charity_report = make_report(caseworker, distribution="agency", entities=PHONE)
    police_report = make_report(analyst, entities=SAME_PHONE)
    match = Match.objects.get()
    assert (match.new_report, match.existing_report) == (police_report, charity_report)
    # Harbour has no analysts: its caseworker, the author, is told in person.
    (event,) = [e for e in events() if e.recipient_ids]
    assert event.recipient_ids == [caseworker.pk]
    assert event.message.endswith("Contact: Northshire Police.")
    assert list(Match.objects.visible_to(caseworker)) == [match]
    assert not Match.objects.visible_to(analyst).exists()  # the charity kept it to itself


def test_reports_both_agencies_may_read_match_on_both_sides(
    make_report: Any, analyst: User, immigration_analyst: User
) -> None:
    police_report = make_report(analyst, distribution="partnership", entities=PHONE)
    immigration_report = make_report(immigration_analyst, entities=SAME_PHONE)
    match = Match.objects.get()
    assert (match.new_report, match.existing_report) == (immigration_report, police_report)
    assert match.existing_agency_told and match.new_agency_told
    assert list(Match.objects.visible_to(analyst)) == [match]
    assert list(Match.objects.visible_to(immigration_analyst)) == [match]


def test_no_match_with_drafts_or_ones_own_agency(
    make_report: Any, analyst: User, police_officer: User, caseworker: User
) -> None:
    make_report(analyst, submit=False, distribution="agency", entities=PHONE)
    officers = make_report(police_officer, entities=SAME_PHONE)
    assert not Match.objects.exists()  # the police's own draft: not a match
    charity = make_report(caseworker, entities=SAME_PHONE)
    # Only the officer's submitted report matches the charity's, never the draft.
    match = Match.objects.get()
    assert (match.new_report, match.existing_report) == (charity, officers)


def test_the_submitter_is_told_where_the_rule_lets_them_read_the_other_report(
    make_report: Any, analyst: User, caseworker: User, harbour: Agency
) -> None:
    # TLP:RED to the partnership, naming Harbour: Harbour may read it, so it is told.
    earlier = make_report(analyst, tlp="RED", tlp_recipients=[harbour], entities=PHONE)
    later = make_report(caseworker, entities=SAME_PHONE)
    match = Match.objects.get()
    assert match.new_agency_told
    submitter_events = [e for e in events() if e.recipient_ids == [caseworker.pk]]
    assert [e.message for e in submitter_events] == [
        "Another agency has reported on this phone number. Contact: Northshire Police."
    ]
    assert list(Match.objects.visible_to(caseworker)) == [match]
    seen = reads.match_open(caseworker, match.pk)
    assert seen.own_report == later
    assert seen.value == SAME_PHONE[0]["value"]  # their own spelling
    assert seen.contact_agency.name == "Northshire Police"
    assert seen.own_report != earlier
    assert AuditEvent.objects.for_target(match).filter(action="intelligence.match_viewed").exists()


def test_outside_the_distribution_the_submitter_learns_nothing(
    police_report: Any, make_report: Any, outside_analyst: User, analyst: User
) -> None:
    # Southshire's report goes to every agency, so the police may read it; the police's
    # report is kept to the police.
    make_report(outside_analyst, distribution="all", entities=SAME_PHONE)
    match = Match.objects.get()
    assert match.existing_agency_told and not match.new_agency_told
    assert all(e.recipient_ids != [outside_analyst.pk] for e in events())
    assert not Match.objects.visible_to(outside_analyst).exists()
    with pytest.raises(Http404):
        reads.match_open(outside_analyst, match.pk)
    # The police see it, and whom to contact.
    seen = reads.match_open(analyst, match.pk)
    assert seen.own_report == police_report
    assert seen.contact_agency.name == "Southshire Police"


def test_no_match_when_neither_agency_may_read_the_other_report(
    police_report: Any, make_report: Any, outside_analyst: User
) -> None:
    make_report(outside_analyst, distribution="agency", entities=SAME_PHONE)
    assert not Match.objects.exists()
    assert not events()


def test_matches_are_made_once(
    police_report: Any,
    make_report: Any,
    caseworker: User,
    analyst: User,
    matching_worker: Any,
) -> None:
    later = make_report(caseworker, entities=SAME_PHONE)
    reports.entities_set(
        actor=caseworker, report=later, entities=[*SAME_PHONE, {"kind": "vehicle", "value": "X1"}]
    )
    # The police report names the phone again (a later edit): not a second, reversed match.
    reports.entities_set(actor=analyst, report=police_report, entities=PHONE)
    assert MatchingJob.objects.filter(done_at__isnull=True).count() == 2  # both are matched
    assert matching_worker() == 0
    assert Match.objects.count() == 1
    assert len([e for e in events() if e.agency_id]) == 1


def test_changing_a_submitted_reports_entities_matches_them(
    police_report: Any, make_report: Any, caseworker: User, matching_worker: Any
) -> None:
    later = make_report(caseworker, entities=[{"kind": "vehicle", "value": "X1"}])
    assert not Match.objects.exists()
    reports.entities_set(actor=caseworker, report=later, entities=SAME_PHONE)
    matching_worker()
    assert Match.objects.get().new_report == later


def test_the_inbox_is_one_query(
    police_report: Any,
    make_report: Any,
    caseworker: User,
    analyst: User,
    django_assert_num_queries: Any,
) -> None:
    make_report(caseworker, entities=SAME_PHONE)
    with django_assert_num_queries(1):
        rows = list(Match.objects.visible_to(analyst))
    assert [(r.own_report_id, r.other_agency_id) for r in rows] == [
        (police_report.pk, caseworker.membership.agency_id)
    ]


def test_roles_without_match_capability_see_no_inbox(
    police_report: Any, make_report: Any, caseworker: User, manager: User
) -> None:
    make_report(caseworker, entities=SAME_PHONE)
    assert not Match.objects.visible_to(manager).exists()


def test_the_contact_route_names_the_agency_mailbox_when_it_has_one(
    make_report: Any, analyst: User, caseworker: User, police: Agency
) -> None:
    police.intelligence_contact = "intel.desk@police.example"
    police.save(update_fields=["intelligence_contact"])
    make_report(analyst, tlp="RED", tlp_recipients=[caseworker.membership.agency], entities=PHONE)
    make_report(caseworker, entities=SAME_PHONE)
    messages = {e.message for e in events() if e.recipient_ids == [caseworker.pk]}
    assert messages == {
        "Another agency has reported on this phone number. "
        "Contact: Northshire Police (intel.desk@police.example)."
    }
