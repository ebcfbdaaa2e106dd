"""manage.py bench runs end to end on a tiny synthetic partnership and writes every section.

Timings are not asserted (machines are noisy; they belong in bench/results/latest.md).
What is asserted: the sections are there, P2 and P4 at both doors (session and token)
through the test client and over HTTP to a real gunicorn on the test database, the query
counts are the same for every page size and no higher with a token, the plan reads no
grant table sequentially, and the measurements put back what they change (twin grants,
referrals, notifications, the token door's API tokens). ``--only dashboard`` measures P8
alone and replaces only its section.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from knox.models import AuthToken

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
        "tokens": AuthToken.objects.count(),
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
    p10 = report[report.index("## P10") :]
    assert "| case page (HTML) | session | HTTP |" in p10
    assert "| identity (API) | token | HTTP |" in p10
    p9 = report[report.index("## P9") : report.index("## P10")]
    assert "Sealed " in p9 and "s per 1,000,000 rows (target < 60 s), intact." in p9
    p8 = report[report.index("## P8") : report.index("## P9")]
    assert "| dashboard (measures + suppression) |" in p8
    assert "| its raw SQL aggregates (14 statements) |" in p8
    assert "(target ≤ 3x)." in p8
    assert "Same count for every page size: yes." in report
    assert "Sequential scans on a grant table: 0." in report
    assert "Audited read / audit off:" in report
    assert report.count("Scoped median, doubled / before, against the control:") == 2
    assert_p1_counts_a_token_as_a_session(report)
    for section in ("## P2", "## P4"):
        assert_timed_at_both_doors(section_of(report, section), http=True)
    assert not CaseAgencyGrant.objects.filter(reason_id__gte=TWIN_OFFSET).exists()
    assert not Group.objects.filter(name__startswith=TWIN_GROUP_PREFIX).exists()
    after = {
        "grants": CaseAgencyGrant.objects.count(),
        "referrals": Referral.objects.count(),
        "notifications": Notification.objects.count(),
        "events": NotificationEvent.objects.count(),
        "tokens": AuthToken.objects.count(),
    }
    assert after == before


def test_bench_without_http_times_both_doors_through_the_test_client(tmp_path: Path) -> None:
    seed(tmp_path)
    output = tmp_path / "latest.md"
    call_command(
        "bench",
        runs=2,
        summary=str(tmp_path / "summary.json"),
        output=str(output),
        skip_growth=True,
        skip_worker=True,
        skip_load=True,
        skip_dashboard=True,
        skip_http=True,
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    report = output.read_text()
    for section in ("## P2", "## P4"):
        assert_timed_at_both_doors(section_of(report, section), http=False)
    assert not AuthToken.objects.exists()


def section_of(report: str, heading: str) -> str:
    start = report.index(heading)
    end = report.find("\n## ", start + len(heading))
    return report[start:] if end == -1 else report[start:end]


def assert_timed_at_both_doors(section: str, *, http: bool) -> None:
    """A table per door, with each side through each transport, and every ratio in the
    summary table; P2 with its p95 target, P4 with its median target."""
    transports = ["test client", "HTTP"] if http else ["test client"]
    p2 = section.startswith("## P2")
    sides = ("scoped", "unscoped") if p2 else ("sees 20%", "sees 1%")
    for door in ("### Session door (cookie)", "### Token door (`Authorization: Token`)"):
        table = section[section.index(door) :].split("\n### ")[0]
        for transport in transports:
            for side in sides:
                assert f"| {side}, {transport} |" in table
            target = "(target ≤ 1.2x), p95" if p2 else "(target ≤ 1.3x)."
            line = f"{transport[0].upper()}{transport[1:]}: median "
            assert line in table and target in table.split(line)[1].split("\n")[0]
        assert ("| scoped, HTTP |" in table) is (http and p2)
    for door in ("session", "token"):
        for transport in transports:
            assert f"| {door} | {transport} | " in section
    assert ("over HTTP to gunicorn" in section) is http


def assert_p1_counts_a_token_as_a_session(report: str) -> None:
    p1 = section_of(report, "## P1")
    for user in ("sees_10", "sees_20000"):
        session = p1.split(f"| case list (API) | {user} | ")[1].split(" |")[0]
        token = p1.split(f"| case list (API, token) | {user} | ")[1].split(" |")[0]
        assert int(token) <= int(session)


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
