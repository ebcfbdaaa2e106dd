"""Matching is done by a worker after the submit's commit, never in the submitter's request
(and its security review).

The police's TLP:RED report on vehicle NX19 KLM goes to the "Labour Exploitation Cell"
and names only the Regional Crime Unit: the Labour Inspectorate (``inspector``) may not
read it. The inspectorate's own report goes to the cell, so the police may read it: the
police's side of a match is made and told, the inspectorate's is not. Before this change
the inspector's own request made that match, its audit row and the police's notification
(44 queries instead of 34, and ids consumed): the request itself told the inspector that a
report it may not read names its vehicle. Now the request writes a ``MatchingJob`` and the
same statements whatever other reports exist; the job is done after the commit, once, and
a job whose task was lost is published again by beat.
"""

from __future__ import annotations

import datetime
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agencies.models import Agency, SharingGroup, User
from audit.models import AuditEvent
from config.celery import app
from intelligence import matching, reports
from intelligence.models import IntelligenceReport, Match, MatchingJob
from intelligence.tasks import match_report, requeue_matching
from notifications import publish
from notifications.models import NotificationEvent
from tests.real_worker import _forget_broker_connections

VEHICLE = [{"kind": "vehicle", "value": "NX19 KLM"}]
SAME_VEHICLE = [{"kind": "vehicle", "value": "nx19klm"}]
REPORTS = "/api/v1/intelligence/"
MATCHES = "/api/v1/intelligence/matches/"
TOLD_THE_POLICE = (
    "Another agency has reported on this vehicle registration. Contact: Labour Inspectorate."
)


def told(user: User) -> list[str]:
    """The match notifications ``user`` would get (events naming them, or their agency
    in their role), once per key."""
    membership = user.membership
    keyed = {
        e.dedup_key: e.message
        for e in NotificationEvent.objects.filter(kind=matching.MATCH_NOTIFICATION)
        if user.pk in e.recipient_ids
        or (e.agency_id == membership.agency_id and membership.role in e.roles)
    }
    return [keyed[key] for key in sorted(keyed)]


def inbox(api: Any, user: User) -> list[int]:
    response = api(user).get(MATCHES)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def normalised(sql: str) -> str:
    """A statement with its values blanked: quoted literals (values, timestamps, JSON)
    and numbers (ids, savepoint names)."""
    return re.sub(r"\d+", "#", re.sub(r"'(?:[^']|'')*'", "'…'", sql))


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


def to_the_cell(cell: SharingGroup, entities: list[dict[str, str]]) -> dict[str, Any]:
    """The inspectorate's report, shared with the cell (the police may read it)."""
    return {
        "title": "Minibus seen at the packing house",
        "summary": "Workers dropped off at 06:00.",
        "source_evaluation": "1",
        "intelligence_assessment": "A",
        "handling_code": "P",
        "tlp": "AMBER",
        "distribution": "sharing_group",
        "sharing_group": cell.pk,
        "entities": entities,
    }


@dataclass
class Submission:
    """What one submit request did: its statements (values blanked), the rows it wrote,
    the audit actions it recorded and what it left to run after the commit."""

    statements: list[str]
    written: dict[str, int]
    audited: list[str]
    after_commit: list[Any]
    body: dict[str, Any]


def _counts() -> dict[str, int]:
    return {
        "match": Match.objects.count(),
        "notification_event": NotificationEvent.objects.count(),
        "matching_job": MatchingJob.objects.count(),
    }


# --- The reviewer's finding -------------------------------------------------------------


def test_the_submitters_request_is_the_same_whether_or_not_a_hidden_report_matches(
    red_report: Any,
    inspector: User,
    analyst: User,
    cell: SharingGroup,
    api: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = api(inspector)

    def submit(entities: list[dict[str, str]]) -> Submission:
        before, last_audit = _counts(), AuditEvent.objects.order_by("pk").last()
        with (
            django_capture_on_commit_callbacks() as callbacks,
            CaptureQueriesContext(connection) as queries,
        ):
            response = client.post(
                REPORTS, {**to_the_cell(cell, entities), "status": "submitted"}, format="json"
            )
        assert response.status_code == 201, response.content
        after = _counts()
        return Submission(
            statements=[normalised(q["sql"]) for q in queries],
            written={name: after[name] - before[name] for name in after},
            audited=list(
                AuditEvent.objects.filter(pk__gt=last_audit.pk if last_audit else 0)
                .order_by("pk")
                .values_list("action", flat=True)
            ),
            after_commit=callbacks,
            body=response.json(),
        )

    # A first submission warms what a first request loads once; then a vehicle nobody
    # else reported, and the vehicle of the RED report.
    submit([{"kind": "vehicle", "value": "AB12 CDE"}])
    alone = submit([{"kind": "vehicle", "value": "YK21 ZPT"}])
    near_red = submit(SAME_VEHICLE)

    # The same statements, one for one, and the same rows: the submit's own, a job.
    assert near_red.statements == alone.statements
    assert (
        near_red.written
        == alone.written
        == {
            "match": 0,
            "notification_event": 0,
            "matching_job": 1,
        }
    )
    assert near_red.audited == alone.audited
    assert "intelligence.match_created" not in near_red.audited
    assert len(near_red.after_commit) == len(alone.after_commit) == 1
    for name in set(alone.body) - {"id", "entities", "created_at", "submitted_at", "updated_at"}:
        assert near_red.body[name] == alone.body[name], name

    # After the commit the worker matches: the police may read the inspectorate's report,
    # so their side is made and told; the inspectorate's is not.
    for callback in near_red.after_commit:
        callback()  # publishes the job's task, run at once (Celery is eager in tests)
    match = Match.objects.get()
    assert (match.new_report_id, match.existing_report) == (near_red.body["id"], red_report)
    assert match.existing_agency_told and not match.new_agency_told
    assert told(analyst) == [TOLD_THE_POLICE]
    assert told(inspector) == []
    assert inbox(api, analyst) == [match.pk]
    assert inbox(api, inspector) == []
    assert MatchingJob.objects.get(report_id=near_red.body["id"]).done_at is not None


def test_the_submitters_own_side_appears_once_the_worker_has_run(
    make_report: Any,
    analyst: User,
    inspector: User,
    cell: SharingGroup,
    api: Any,
    matching_worker: Any,
) -> None:
    # The police's AMBER report to the cell: the inspectorate may read it.
    police_report = make_report(
        analyst, distribution="sharing_group", sharing_group=cell, entities=VEHICLE
    )
    response = api(inspector).post(
        REPORTS, {**to_the_cell(cell, SAME_VEHICLE), "status": "submitted"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert inbox(api, inspector) == []  # the worker has not run yet

    assert matching_worker() == 1
    match = Match.objects.get()
    assert match.existing_report == police_report
    assert match.new_agency_told and match.existing_agency_told
    assert inbox(api, inspector) == [match.pk]
    assert told(inspector) == [
        "Another agency has reported on this vehicle registration. Contact: Northshire Police."
    ]


# --- The job: once, against the reports as they are when it runs --------------------------


def _submit_without_matching(make_report: Any, actor: User, **fields: Any) -> IntelligenceReport:
    """Submit through the services and leave the job waiting for a worker (in these tests
    the transaction never commits, or the broker is down: nothing runs it)."""
    draft = make_report(actor, submit=False, **fields)
    return reports.report_submit(actor=actor, report=draft)


def test_a_job_run_twice_makes_nothing_twice(
    make_report: Any, analyst: User, inspector: User, cell: SharingGroup
) -> None:
    make_report(analyst, distribution="sharing_group", sharing_group=cell, entities=VEHICLE)
    theirs = _submit_without_matching(
        make_report,
        inspector,
        distribution="sharing_group",
        sharing_group=cell,
        entities=SAME_VEHICLE,
    )
    job = MatchingJob.objects.get(report=theirs)

    assert match_report(job.pk) == 1

    def made() -> tuple[int, int, int]:
        return (
            Match.objects.count(),
            AuditEvent.objects.filter(action="intelligence.match_created").count(),
            NotificationEvent.objects.filter(kind=matching.MATCH_NOTIFICATION).count(),
        )

    # The police's analysts and the author (one key), the inspector: three events.
    assert made() == (1, 1, 3)
    # The same message delivered again (a broker redelivery): the job is done.
    assert match_report(job.pk) == 0
    # A second job for the same report (its entities set again): nothing new either.
    reports.entities_set(actor=inspector, report=theirs, entities=SAME_VEHICLE)
    second = MatchingJob.objects.get(report=theirs, done_at__isnull=True)
    assert match_report(second.pk) == 0
    assert made() == (1, 1, 3)
    assert not MatchingJob.objects.filter(done_at__isnull=True).exists()


def test_a_report_archived_before_its_job_runs_is_not_matched(
    make_report: Any,
    analyst: User,
    inspector: User,
    cell: SharingGroup,
    matching_worker: Any,
) -> None:
    make_report(analyst, distribution="sharing_group", sharing_group=cell, entities=VEHICLE)
    theirs = _submit_without_matching(
        make_report,
        inspector,
        distribution="sharing_group",
        sharing_group=cell,
        entities=SAME_VEHICLE,
    )
    reports.report_archive(actor=inspector, report=theirs, reason="Sent in error")

    assert matching_worker() == 0
    assert not Match.objects.exists()
    assert not NotificationEvent.objects.filter(kind=matching.MATCH_NOTIFICATION).exists()
    assert MatchingJob.objects.get(report=theirs).done_at is not None


def test_the_job_matches_the_other_reports_as_they_are_when_it_runs(
    make_report: Any,
    analyst: User,
    inspector: User,
    cell: SharingGroup,
    matching_worker: Any,
) -> None:
    ours = make_report(analyst, distribution="sharing_group", sharing_group=cell, entities=VEHICLE)
    _submit_without_matching(
        make_report,
        inspector,
        distribution="sharing_group",
        sharing_group=cell,
        entities=SAME_VEHICLE,
    )
    # The police keep their report to themselves before the job runs: the inspectorate
    # may no longer read it, and the police's side alone is made.
    reports.report_update(actor=analyst, report=ours, distribution="agency")

    assert matching_worker() == 1
    match = Match.objects.get()
    assert match.existing_agency_told and not match.new_agency_told
    assert told(inspector) == []


# --- Nothing lost: the publish, the broker, the worker --------------------------------------


def test_a_publish_that_never_happened_is_requeued_by_beat(
    make_report: Any, analyst: User, inspector: User, cell: SharingGroup, api: Any, settings: Any
) -> None:
    make_report(analyst, distribution="sharing_group", sharing_group=cell, entities=VEHICLE)
    # The web process died between the commit and the publish (here: the transaction
    # never commits, so the on-commit publish never runs).
    theirs = _submit_without_matching(
        make_report,
        inspector,
        distribution="sharing_group",
        sharing_group=cell,
        entities=SAME_VEHICLE,
    )
    job = MatchingJob.objects.get(report=theirs)

    # A fresh job's task may still be on its way: beat leaves it alone.
    assert matching.matching_jobs_to_requeue() == []
    assert requeue_matching() == 0
    assert not Match.objects.exists()

    MatchingJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - matching.MATCHING_GRACE - datetime.timedelta(seconds=1)
    )
    assert matching.matching_jobs_to_requeue() == [job.pk]
    assert requeue_matching() == 1  # eager in unit tests: matched here
    match = Match.objects.get()
    assert match.new_report == theirs and match.new_agency_told and match.existing_agency_told
    assert inbox(api, inspector) == [match.pk]
    assert told(analyst) == [TOLD_THE_POLICE]
    assert requeue_matching() == 0

    # Done jobs are kept MATCHING_JOB_RETENTION_DAYS, then deleted (the matches stay).
    settings.MATCHING_JOB_RETENTION_DAYS = 2
    retention = datetime.timedelta(days=2)
    MatchingJob.objects.update(done_at=timezone.now() - retention + datetime.timedelta(minutes=1))
    requeue_matching()
    assert MatchingJob.objects.exists()
    MatchingJob.objects.update(done_at=timezone.now() - retention - datetime.timedelta(minutes=1))
    requeue_matching()
    assert not MatchingJob.objects.exists()
    assert Match.objects.filter(pk=match.pk).exists()


def test_beat_requeues_matching_every_minute(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["intelligence-requeue-matching"]
    assert entry["task"] == "intelligence.tasks.requeue_matching"
    assert entry["schedule"] == 60.0
    assert entry["task"] == requeue_matching.name


@pytest.fixture
def broker_down() -> Iterator[None]:
    """Publishing goes to a Redis that is not there (nothing listens on port 1)."""
    saved = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}
    _forget_broker_connections()
    app.conf.update(broker_url="redis://127.0.0.1:1/0", task_always_eager=False)
    try:
        yield
    finally:
        # Notifications publish from a thread of their own: let it fail now, on the
        # broker that is down, not later on the restored configuration.
        publish.flush()
        _forget_broker_connections()
        app.conf.update(saved)


@pytest.mark.django_db(transaction=True)
def test_a_submit_with_the_broker_down_stands_and_is_matched_later(
    make_report: Any,
    analyst: User,
    inspector: User,
    cell: SharingGroup,
    api: Any,
    broker_down: None,
) -> None:
    make_report(analyst, distribution="sharing_group", sharing_group=cell, entities=VEHICLE)

    # The request commits, then its publish fails: the submit stands (no error page for
    # a report that was submitted), and the job waits.
    response = api(inspector).post(
        REPORTS, {**to_the_cell(cell, SAME_VEHICLE), "status": "submitted"}, format="json"
    )
    assert response.status_code == 201, response.content
    job = MatchingJob.objects.get(report_id=response.json()["id"])
    assert job.done_at is None and not Match.objects.exists()

    # Beat, once the broker is back (eager here), publishes it again.
    app.conf.update(task_always_eager=True)
    MatchingJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - matching.MATCHING_GRACE - datetime.timedelta(seconds=1)
    )
    assert requeue_matching() == 1
    assert Match.objects.get().new_report_id == job.report_id


@pytest.mark.django_db(transaction=True)
def test_a_job_held_by_one_worker_is_skipped_by_another(
    make_report: Any, analyst: User, inspector: User, cell: SharingGroup, broker_down: None
) -> None:
    make_report(analyst, distribution="sharing_group", sharing_group=cell, entities=VEHICLE)
    with transaction.atomic():  # committed; its publish fails (broker_down): it waits
        theirs = _submit_without_matching(
            make_report,
            inspector,
            distribution="sharing_group",
            sharing_group=cell,
            entities=SAME_VEHICLE,
        )
    job = MatchingJob.objects.get(report=theirs)
    answers: list[int] = []

    def second_worker() -> None:
        try:
            answers.append(match_report(job.pk))
        finally:
            connections.close_all()

    # One worker holds the job (claimed, not yet done): another given the same job
    # (a redelivery) goes on at once and does nothing.
    with transaction.atomic():
        MatchingJob.objects.select_for_update().get(pk=job.pk)
        thread = threading.Thread(target=second_worker)
        thread.start()
        thread.join(timeout=20)
    assert answers == [0]
    assert not Match.objects.exists()
    assert match_report(job.pk) == 1
