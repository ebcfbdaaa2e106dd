"""manage.py bench runs end to end on a tiny synthetic partnership and writes every section.

Timings are not asserted (machines are noisy; they belong in bench/results/latest.md).
What is asserted: the sections are there, the query counts are the same for every page
size, the plan reads no grant table sequentially, and the measurements put back what
they change (twin grants, referrals, notifications). ``--only dashboard`` measures P8
alone and replaces only its section.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from agencies.models import Role
from agencies.tests.factories import member
from bench.side_effects import TWIN_GROUP_PREFIX, TWIN_OFFSET
from casework.models import CaseAgencyGrant
from dashboards.benchmark import largest_partnership
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
    for heading in ("## P1", "## P2", "## P3", "## P4", "## P5", "## P6", "## P7", "## P8"):
        assert heading in report
    p8 = report[report.index("## P8") :]
    assert "| dashboard (measures + suppression) |" in p8
    assert "| its raw SQL aggregates (14 statements) |" in p8
    assert "(target ≤ 3x)." in p8
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


def test_only_the_dashboard_replaces_its_own_section(tmp_path: Path) -> None:
    seed(tmp_path)
    # The tiny partnership may have no manager; give it one, so the API is measured too.
    busiest = largest_partnership().agencies.order_by("pk").first()
    member(busiest, Role.PARTNERSHIP_MANAGER, username="bench-manager")
    output = tmp_path / "latest.md"
    output.write_text(
        "# Benchmark results\n\n## P7 — throughput\n\nkept\n\n"
        "## P8 — partnership dashboard\n\nold numbers\n\n## P9 — later\n\nkept too\n"
    )
    # No summary file: P8 picks its partnership and its manager from the data.
    call_command(
        "bench",
        only="dashboard",
        runs=2,
        summary=str(tmp_path / "missing.json"),
        output=str(output),
        stdout=io.StringIO(),
    )
    report = output.read_text()
    assert "old numbers" not in report
    assert report.startswith("# Benchmark results\n\n## P7 — throughput\n\nkept\n\n## P8 — ")
    assert report.endswith("\n\n## P9 — later\n\nkept too\n")
    assert report.count("## P8") == 1
    assert "with `bench --only dashboard`" in report
    assert "Ratio: median" in report
    assert "| the API, as `bench-manager` (test client, audited) |" in report
    assert "API / raw SQL: median" in report
