"""manage.py bench runs end to end on a tiny synthetic partnership and writes every section.

Timings are not asserted (machines are noisy; they belong in bench/results/latest.md).
What is asserted: the sections are there, the query counts are the same for every page
size, the plan reads no grant table sequentially, and the measurements put back what
they change (twin grants, referrals, notifications).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from bench.side_effects import TWIN_GROUP_PREFIX, TWIN_OFFSET
from casework.models import CaseAgencyGrant
from notifications.models import Notification, NotificationEvent
from referrals.models import Referral

from .test_seed_synthetic import seed

pytestmark = pytest.mark.django_db(transaction=True)


def test_bench_writes_every_section_and_leaves_the_data_as_it_was(tmp_path: Path) -> None:
    seed(tmp_path)
    before = {
        "grants": CaseAgencyGrant.objects.count(),
        "referrals": Referral.objects.count(),
        "notifications": Notification.objects.count(),
        "events": NotificationEvent.objects.count(),
    }
    output = tmp_path / "latest.md"
    call_command(
        "bench",
        runs=2,
        summary=str(tmp_path / "summary.json"),
        output=str(output),
        skip_worker=True,
        skip_load=True,
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    report = output.read_text()
    for heading in ("## P1", "## P2", "## P3", "## P4", "## P5", "## P6", "## P7"):
        assert heading in report
    assert "Same count for every page size: yes." in report
    assert "Sequential scans on a grant table: 0." in report
    assert "Audited read / audit off:" in report
    assert report.count("Scoped median, doubled / before, against the control:") == 2
    assert not CaseAgencyGrant.objects.filter(reason_id__gte=TWIN_OFFSET).exists()
    assert not Group.objects.filter(name__startswith=TWIN_GROUP_PREFIX).exists()
    after = {
        "grants": CaseAgencyGrant.objects.count(),
        "referrals": Referral.objects.count(),
        "notifications": Notification.objects.count(),
        "events": NotificationEvent.objects.count(),
    }
    assert after == before
