"""A match follows the audience rule of reading.

Northshire Police (``analyst``) own the sharing group "Labour Exploitation Cell" with the
Labour Inspectorate (``inspector``) and the Regional Crime Unit. The police's TLP:RED
report on vehicle NX19 KLM is distributed to the cell but names only the crime unit: the
inspectorate may not read it. When the inspectorate reports on the same vehicle, it must
learn nothing of the RED report: no notification, no match it can see, and the same
answer as if the RED report did not exist. The police, who may read the inspectorate's
report, still learn of it. And a match a side may no longer read (archived, re-graded,
re-distributed, a partnership that ended) leaves that side's inbox and notifications.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.db.models import Exists, OuterRef
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agencies.models import Agency, Partnership, SharingGroup, User
from audit.models import AuditEvent
from intelligence import reports
from intelligence.audience import agency_reads
from intelligence.models import IntelligenceReport, Match
from notifications.models import Notification, NotificationEvent

VEHICLE = [{"kind": "vehicle", "value": "NX19 KLM"}]
SAME_VEHICLE = [{"kind": "vehicle", "value": "nx19klm"}]
MATCHES = "/api/v1/intelligence/matches/"
REPORTS = "/api/v1/intelligence/"


def match_events() -> list[NotificationEvent]:
    return list(NotificationEvent.objects.filter(kind="intelligence.match").order_by("pk"))


def told(user: User) -> list[str]:
    """The match notifications ``user`` would get: events naming them or their agency
    in their role (expanded or not), once per key, as the worker delivers them."""
    membership = user.membership
    keyed = {
        e.dedup_key: e.message
        for e in match_events()
        if user.pk in e.recipient_ids
        or (e.agency_id == membership.agency_id and membership.role in e.roles)
    }
    return [keyed[key] for key in sorted(keyed)]


def match_page(login: Any, user: User) -> str:
    return login(user).get("/intelligence/matches/").content.decode()


def inbox(api: Any, user: User) -> list[int]:
    response = api(user).get(MATCHES)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def red_report(make_report: Any, analyst: User, cell: SharingGroup, crime_unit: Agency) -> Any:
    """The police's TLP:RED report on the vehicle, to the cell, naming the crime unit only."""
    return make_report(
        analyst,
        title="Minibus used to move workers between farms",
        tlp="RED",
        distribution="sharing_group",
        sharing_group=cell,
        tlp_recipients=[crime_unit],
        entities=VEHICLE,
    )


# --- The scenario ---------------------------------------------------------------


def test_a_red_report_the_submitter_is_not_named_on_makes_no_match(
    red_report: Any, make_report: Any, inspector: User, analyst: User, login: Any, api: Any
) -> None:
    # The inspectorate keeps its report to itself: neither side may read the other's.
    make_report(inspector, distribution="agency", entities=SAME_VEHICLE)

    assert not Match.objects.exists()
    assert not match_events()
    assert not AuditEvent.objects.filter(action="intelligence.match_created").exists()
    assert inbox(api, inspector) == [] and inbox(api, analyst) == []
    assert (
        "Northshire Police" not in login(inspector).get("/intelligence/matches/").content.decode()
    )


def test_the_submitter_gets_the_same_answer_and_queries_as_if_the_red_report_did_not_exist(
    red_report: Any, inspector: User, api: Any, matching_worker: Any
) -> None:
    client = api(inspector)
    body = {
        "title": "Minibus seen at the packing house",
        "summary": "Workers dropped off at 06:00.",
        "source_evaluation": "1",
        "intelligence_assessment": "A",
        "handling_code": "P",
        "tlp": "AMBER",
        "distribution": "agency",
        "status": "submitted",
    }

    def submit(entities: list[dict[str, str]]) -> tuple[int, dict[str, Any], list[str]]:
        with CaptureQueriesContext(connection) as queries:
            response = client.post(REPORTS, {**body, "entities": entities}, format="json")
        assert response.status_code == 201, response.content
        return len(queries), response.json(), [q["sql"] for q in queries]

    # A vehicle nobody else reported, then the vehicle of the RED report (after a first
    # submission that warms what a first request loads once).
    submit([{"kind": "vehicle", "value": "AB12 CDE"}])
    alone_count, alone, _ = submit([{"kind": "vehicle", "value": "YK21 ZPT"}])
    red_count, near_red, statements = submit(SAME_VEHICLE)

    assert red_count == alone_count
    assert set(near_red) == set(alone)
    for name in set(alone) - {"id", "entities", "created_at", "submitted_at", "updated_at"}:
        assert near_red[name] == alone[name], name
    assert not any(sql.startswith('INSERT INTO "intelligence_match" ') for sql in statements)
    # Nor does the worker, after the commit: neither side may read the other's report.
    matching_worker()
    assert not Match.objects.exists() and not match_events()


def test_the_red_reports_owner_still_learns_of_a_report_it_may_read(
    red_report: Any,
    make_report: Any,
    inspector: User,
    analyst: User,
    cell: SharingGroup,
    police: Agency,
    api: Any,
    login: Any,
) -> None:
    # The inspectorate shares its report with the cell: the police may read it.
    theirs = make_report(
        inspector, distribution="sharing_group", sharing_group=cell, entities=SAME_VEHICLE
    )
    match = Match.objects.get()
    assert (match.new_report, match.existing_report) == (theirs, red_report)
    assert match.existing_agency_told and not match.new_agency_told

    assert told(analyst) == [
        "Another agency has reported on this vehicle registration. Contact: Labour Inspectorate."
    ]
    assert told(inspector) == []
    assert inbox(api, analyst) == [match.pk]

    # The inspectorate: nothing in its inbox, and the match is as absent as one that
    # never existed (the same 404 at both doors), the attempt audited.
    assert inbox(api, inspector) == []
    hidden = api(inspector).get(f"{MATCHES}{match.pk}/")
    missing = api(inspector).get(f"{MATCHES}{match.pk + 1000}/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert login(inspector).get(f"/intelligence/matches/{match.pk}/").status_code == 404
    assert AuditEvent.objects.for_target(match).filter(action="access.denied", actor=inspector)
    assert (
        "Northshire Police" not in login(inspector).get("/intelligence/matches/").content.decode()
    )


@pytest.mark.parametrize("tlp", ["AMBER", "GREEN"])
def test_a_report_the_submitter_may_read_still_matches(
    tlp: str,
    make_report: Any,
    analyst: User,
    inspector: User,
    cell: SharingGroup,
    api: Any,
) -> None:
    ours = make_report(
        analyst, tlp=tlp, distribution="sharing_group", sharing_group=cell, entities=VEHICLE
    )
    make_report(inspector, distribution="sharing_group", sharing_group=cell, entities=SAME_VEHICLE)
    match = Match.objects.get()
    assert match.existing_report == ours
    assert match.existing_agency_told and match.new_agency_told
    assert told(inspector) == [
        "Another agency has reported on this vehicle registration. Contact: Northshire Police."
    ]
    assert inbox(api, inspector) == [match.pk] and inbox(api, analyst) == [match.pk]


def test_the_rule_applies_to_the_new_report_too(
    make_report: Any,
    analyst: User,
    inspector: User,
    cell: SharingGroup,
    crime_unit: Agency,
    api: Any,
) -> None:
    # The police's report the inspectorate may read; the inspectorate's later report is
    # TLP:RED to the crime unit only: the inspectorate is told, the police are not.
    make_report(analyst, distribution="sharing_group", sharing_group=cell, entities=VEHICLE)
    make_report(
        inspector,
        tlp="RED",
        distribution="sharing_group",
        sharing_group=cell,
        tlp_recipients=[crime_unit],
        entities=SAME_VEHICLE,
    )
    match = Match.objects.get()
    assert match.new_agency_told and not match.existing_agency_told
    assert told(analyst) == []
    assert inbox(api, analyst) == [] and inbox(api, inspector) == [match.pk]


def test_drafts_are_never_matched_and_are_matched_by_the_same_rule_once_submitted(
    make_report: Any,
    analyst: User,
    inspector: User,
    cell: SharingGroup,
    crime_unit: Agency,
    matching_worker: Any,
) -> None:
    draft = make_report(
        analyst,
        submit=False,
        tlp="RED",
        distribution="sharing_group",
        sharing_group=cell,
        tlp_recipients=[crime_unit],
        entities=VEHICLE,
    )
    theirs = make_report(inspector, distribution="agency", entities=SAME_VEHICLE)
    assert not Match.objects.exists()

    # Submitted later, the RED report finds the inspectorate's report, which the police
    # may not read (kept to the inspectorate), and which may not read it: still nothing.
    reports.report_submit(actor=analyst, report=draft)
    matching_worker()
    assert not Match.objects.exists() and not match_events()

    # Once the inspectorate shares its report with the cell, a change of the police
    # report's entities matches again: the police may read it, the inspectorate not.
    reports.report_update(
        actor=inspector, report=theirs, distribution="sharing_group", sharing_group=cell.pk
    )
    reports.entities_set(
        actor=analyst, report=draft, entities=[*VEHICLE, {"kind": "vehicle", "value": "X1"}]
    )
    matching_worker()
    match = Match.objects.get()
    assert (match.new_report, match.existing_report) == (draft, theirs)
    assert match.new_agency_told and not match.existing_agency_told


# --- When the audience narrows later ------------------------------------------------------


@pytest.fixture
def shared(
    make_report: Any,
    analyst: User,
    inspector: User,
    cell: SharingGroup,
    notification_worker: Any,
    django_capture_on_commit_callbacks: Any,
) -> tuple[Any, Any, Match]:
    """The police's AMBER report to the cell, then the inspectorate's on the same
    vehicle, also to the cell: both sides told, their notifications delivered."""
    with django_capture_on_commit_callbacks(execute=True):
        ours = make_report(
            analyst, distribution="sharing_group", sharing_group=cell, entities=VEHICLE
        )
        theirs = make_report(
            inspector, distribution="sharing_group", sharing_group=cell, entities=SAME_VEHICLE
        )
    notification_worker()
    match = Match.objects.get()
    assert match.existing_agency_told and match.new_agency_told
    assert Notification.objects.filter(kind="intelligence.match", recipient=inspector).exists()
    assert Notification.objects.filter(kind="intelligence.match", recipient=analyst).exists()
    return ours, theirs, match


def archive(analyst: User, report: Any, crime_unit: Agency) -> None:
    reports.report_archive(actor=analyst, report=report, reason="Operation closed")


def regrade_to_red(analyst: User, report: Any, crime_unit: Agency) -> None:
    reports.report_regrade(
        actor=analyst,
        report=report,
        reason="Source at risk",
        tlp="RED",
        tlp_recipients=[crime_unit.pk],
    )


def redistribute_to_the_police_only(analyst: User, report: Any, crime_unit: Agency) -> None:
    reports.report_update(actor=analyst, report=report, distribution="agency")


@pytest.mark.parametrize("narrow", [archive, regrade_to_red, redistribute_to_the_police_only])
def test_a_side_that_may_no_longer_read_the_other_report_loses_the_match(
    narrow: Any,
    shared: tuple[Any, Any, Match],
    analyst: User,
    inspector: User,
    crime_unit: Agency,
    api: Any,
    login: Any,
) -> None:
    ours, _theirs, match = shared
    narrow(analyst, ours, crime_unit)

    # The inspectorate may no longer read the police report: gone from its inbox, its
    # detail 404 at both doors, its notification withdrawn (the trail says so).
    assert inbox(api, inspector) == []
    assert api(inspector).get(f"{MATCHES}{match.pk}/").status_code == 404
    assert login(inspector).get(f"/intelligence/matches/{match.pk}/").status_code == 404
    assert not Notification.objects.filter(kind="intelligence.match", recipient=inspector)
    assert not NotificationEvent.objects.filter(recipient_ids__contains=[inspector.pk])
    withdrawn = AuditEvent.objects.for_target(match).get(action="intelligence.match_withdrawn")
    assert withdrawn.detail["side"] == "new"

    # The police still read the inspectorate's report: their side stays.
    assert inbox(api, analyst) == [match.pk]
    assert api(analyst).get(f"{MATCHES}{match.pk}/").status_code == 200
    assert Notification.objects.filter(kind="intelligence.match", recipient=analyst).exists()


def test_a_side_is_withdrawn_once_and_not_told_again_when_the_report_widens(
    shared: tuple[Any, Any, Match],
    analyst: User,
    inspector: User,
    crime_unit: Agency,
    api: Any,
) -> None:
    ours, _theirs, match = shared
    regrade_to_red(analyst, ours, crime_unit)
    match.refresh_from_db()
    assert match.existing_agency_told and not match.new_agency_told
    # Widened again, the report is the inspectorate's to read and search, but it was
    # never told of this match since: it stays out of its inbox.
    reports.report_regrade(actor=analyst, report=ours, reason="Source safe", tlp="AMBER")
    assert inbox(api, inspector) == []
    archive(analyst, ours, crime_unit)
    withdrawn = AuditEvent.objects.for_target(match).filter(action="intelligence.match_withdrawn")
    assert withdrawn.count() == 1


def test_the_submitters_notification_stays_while_another_matched_report_is_still_theirs(
    make_report: Any,
    analyst: User,
    inspector: User,
    cell: SharingGroup,
    crime_unit: Agency,
    notification_worker: Any,
    django_capture_on_commit_callbacks: Any,
    api: Any,
) -> None:
    # Two police reports on the vehicle; one notification to the inspectorate for both.
    with django_capture_on_commit_callbacks(execute=True):
        first = make_report(
            analyst, distribution="sharing_group", sharing_group=cell, entities=VEHICLE
        )
        second = make_report(
            analyst, distribution="sharing_group", sharing_group=cell, entities=VEHICLE
        )
        make_report(inspector, distribution="agency", entities=SAME_VEHICLE)
    notification_worker()
    assert Notification.objects.filter(kind="intelligence.match", recipient=inspector).count() == 1

    reports.report_archive(actor=analyst, report=first)
    # The second report is still the inspectorate's to read: the notice stands.
    assert Notification.objects.filter(kind="intelligence.match", recipient=inspector).count() == 1
    [remaining] = inbox(api, inspector)
    assert Match.objects.get(pk=remaining).existing_report == second

    reports.report_archive(actor=analyst, report=second)
    assert not Notification.objects.filter(kind="intelligence.match", recipient=inspector)
    assert inbox(api, inspector) == []


def test_a_partnership_agreement_that_ends_hides_its_matches_at_read_time(
    make_report: Any,
    analyst: User,
    inspector: User,
    partnership: Partnership,
    api: Any,
) -> None:
    # Both reports go to the partnership; nothing in intelligence changes when the
    # agreement ends, yet neither side may read the other's report any more.
    make_report(analyst, entities=VEHICLE)
    make_report(inspector, entities=SAME_VEHICLE)
    match = Match.objects.get()
    assert inbox(api, analyst) == [match.pk] and inbox(api, inspector) == [match.pk]

    partnership.ends_on = timezone.localdate() - datetime.timedelta(days=1)
    partnership.save(update_fields=["ends_on"])
    assert inbox(api, analyst) == [] and inbox(api, inspector) == []
    assert api(analyst).get(f"{MATCHES}{match.pk}/").status_code == 404


# --- One rule, asked from either side ------------------------------------------------------


def test_the_rule_gives_the_same_answer_asked_from_the_report_or_from_the_agency(
    make_report: Any,
    analyst: User,
    inspector: User,
    cell: SharingGroup,
    crime_unit: Agency,
    council: Agency,
    harbour: Agency,
    outside_police: Agency,
) -> None:
    # Matching asks "does the agency of that row read this report?" (the agency as an
    # OuterRef); reading asks "which reports does this agency read?" (an id). Both are
    # audience.agency_reads: over every distribution and colour, they must agree.
    group = {"distribution": "sharing_group", "sharing_group": cell}
    reports = [
        make_report(analyst, distribution="agency"),
        make_report(analyst, distribution="all", tlp="GREEN"),
        make_report(analyst, distribution="partnership", tlp="AMBER"),
        make_report(analyst, distribution="partnership", tlp="AMBER+STRICT"),
        make_report(analyst, distribution="partnership", tlp="RED", tlp_recipients=[council]),
        make_report(analyst, **group, tlp="CLEAR"),
        make_report(analyst, **group, tlp="RED", tlp_recipients=[crime_unit]),
        make_report(inspector, **group, tlp="AMBER"),
        make_report(analyst, submit=False, distribution="all", tlp="CLEAR"),
    ]
    agencies = [council, harbour, outside_police, crime_unit, inspector.membership.agency]
    for report in reports:
        by_row = set(
            Agency.objects.filter(
                Exists(
                    IntelligenceReport.objects.filter(agency_reads(OuterRef("pk")), pk=report.pk)
                ),
                pk__in=[a.pk for a in agencies],
            ).values_list("pk", flat=True)
        )
        by_id = {
            a.pk
            for a in agencies
            if IntelligenceReport.objects.filter(agency_reads(a.pk), pk=report.pk).exists()
        }
        assert by_row == by_id, (report.distribution, report.tlp)
    # And the answers are the rule's: e.g. the cell's RED report reaches the crime unit
    # (and its own agency) only.
    red = reports[6]
    assert {
        a.pk for a in agencies if IntelligenceReport.objects.filter(agency_reads(a.pk), pk=red.pk)
    } == {crime_unit.pk}
