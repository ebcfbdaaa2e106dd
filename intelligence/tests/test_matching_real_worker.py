"""A real Celery worker on a real broker does a submit's matching, after the commit.

``celery -A config worker`` runs as a subprocess on a queue of this test's own, against
the test database (so the rows really commit: ``transaction=True``) and the broker of
tests/real_worker.py: Redis, or RabbitMQ with ``CONCORD_TEST_BROKER=rabbitmq`` (skipped
locally without one, a failure in CI). Waits are bounded polls;
nothing asserts how fast anything is.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from agencies.models import User
from intelligence import matching, reports
from intelligence.models import Match, MatchingJob
from notifications.models import Notification
from tests.real_worker import emails, wait_for

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]
PHONE = [{"kind": "phone", "value": "07911 123456"}]
SAME_PHONE = [{"kind": "phone", "value": "+44 7911 123 456"}]


def test_a_submits_matching_is_done_by_the_worker_after_the_commit(
    make_report: Any,
    analyst: User,
    caseworker: User,
    queue: str,
    start_worker: Any,
    mail_dir: Any,
    queues: Any,
) -> None:
    # Both reports go to the partnership: each agency may read the other's.
    police_draft = make_report(analyst, submit=False, entities=PHONE)
    harbour_draft = make_report(caseworker, submit=False, entities=SAME_PHONE)
    with start_worker("matcher") as worker:
        worker.wait_ready()
        with transaction.atomic():
            reports.report_submit(actor=analyst, report=police_draft)
        wait_for(
            "the police report's job",
            lambda: not MatchingJob.objects.filter(done_at__isnull=True).exists(),
        )
        assert not Match.objects.exists()  # nothing else named the phone yet

        with transaction.atomic():
            harbour_report = reports.report_submit(actor=caseworker, report=harbour_draft)
            # Not in the submit's transaction: the worker's, after the commit.
            assert not Match.objects.exists()
        match = wait_for("the match", lambda: Match.objects.first())
        assert (match.new_report, match.existing_report) == (harbour_report, police_draft)
        assert match.existing_agency_told and match.new_agency_told
        assert MatchingJob.objects.get(report=harbour_report).done_at is not None

        # Its notifications, written by the worker, are delivered by it too: the police
        # analyst (the author) and Harbour's caseworker (the submitter), once each.
        wait_for(
            "both notifications delivered",
            lambda: (
                Notification.objects.filter(
                    kind=matching.MATCH_NOTIFICATION, delivered_at__isnull=False
                ).count()
                == 2
            ),
        )
    # One email each (a long subject is folded over two header lines: its first is read).
    sent = emails(mail_dir)
    assert len(sent) == 2
    assert all(line.startswith("Subject: Concord: Another agency has reported") for line in sent)
    assert sorted(
        Notification.objects.filter(kind=matching.MATCH_NOTIFICATION).values_list(
            "recipient", "message"
        )
    ) == sorted(
        [
            (
                analyst.pk,
                "Another agency has reported on this phone number. Contact: Harbour Trust.",
            ),
            (
                caseworker.pk,
                "Another agency has reported on this phone number. Contact: Northshire Police.",
            ),
        ]
    )
    assert queues.length(queue) == 0
