"""python manage.py bench: measure the synthetic partnership, write bench/results/latest.md.

Run ``seed_synthetic`` first (see README, "Performance"). The users measured are the ones
``seed_synthetic`` names in var/synthetic-summary.json; P8 (the dashboard) measures the
busiest partnership and one of its partnership managers, and needs no summary, so
``--only dashboard`` runs it alone and rewrites only its section of the output.

P2 and P4 are timed at both doors, a browser session and an API token, each through the
test client and over real HTTP to gunicorn (``bench.doors``); ``--skip-http``
leaves the HTTP half out.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from agencies.backends import MembershipBackend
from agencies.models import Agency, Role, User
from audit import chain
from bench import doors, encryption, measure, side_effects, throughput
from casework.models import Case, CaseStatus
from dashboards import benchmark as dashboard_benchmark
from dashboards.filters import Filters, default_period
from dashboards.scope import Scope

RESULTS = Path(settings.BASE_DIR) / "bench" / "results" / "latest.md"
P8_HEADING = "## P8"
P10_HEADING = "## P10"


def ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


@dataclass(frozen=True)
class Targets:
    """The targets of one ratio (README, "Performance"): its medians', and its p95s'."""

    median: float
    p95: float | None = None

    def met(self, top: measure.Timing, bottom: measure.Timing) -> bool:
        return ratio(top.median, bottom.median) <= self.median and (
            self.p95 is None or ratio(top.p95, bottom.p95) <= self.p95
        )

    def describe(self, top: measure.Timing, bottom: measure.Timing) -> str:
        text = f"median {ratio(top.median, bottom.median):.2f}x (target ≤ {self.median:g}x)"
        if self.p95 is not None:
            text += f", p95 {ratio(top.p95, bottom.p95):.2f}x (target ≤ {self.p95:g}x)"
        return text + "."


P2_TARGETS = Targets(median=1.2, p95=1.5)
P4_TARGETS = Targets(median=1.3)


class Command(BaseCommand):
    help = "Measure query counts and scoped/unscoped ratios on the synthetic dataset."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--runs", type=int, default=30, help="timed runs per measurement")
        parser.add_argument("--summary", default=str(settings.VAR_DIR / "synthetic-summary.json"))
        parser.add_argument("--output", default=str(RESULTS))
        parser.add_argument(
            "--skip-growth",
            action="store_true",
            help="skip P3's doubling of the grants (about 2 minutes at the default size)",
        )
        parser.add_argument(
            "--skip-worker", action="store_true", help="skip P6's Celery worker measurement"
        )
        parser.add_argument(
            "--skip-load", action="store_true", help="skip P7 (gunicorn under load)"
        )
        parser.add_argument(
            "--skip-http",
            action="store_true",
            help="time P2 and P4 through the test client only, not also over HTTP (gunicorn)",
        )
        parser.add_argument(
            "--skip-dashboard", action="store_true", help="skip P8 (the partnership dashboard)"
        )
        parser.add_argument(
            "--skip-audit-chain",
            action="store_true",
            help="skip P9 (sealing the audit trail and verifying its hash chain)",
        )
        parser.add_argument(
            "--only",
            choices=["dashboard", "encryption"],
            help="measure only this part (dashboard: P8, encryption: P10; without the summary "
            "file) and "
            "replace only its section of the output, keeping the others",
        )
        parser.add_argument(
            "--load-seconds", type=float, default=20.0, help="P7: seconds per path (default 20)"
        )
        parser.add_argument(
            "--concurrency", type=int, default=4, help="P7: client threads (default 4)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["only"] == "dashboard":
            lines: list[str] = []
            self._dashboard(lines.append, options["runs"], standalone=True)
            self._write_section(Path(options["output"]), lines, P8_HEADING)
            return
        if options["only"] == "encryption":
            lines = []
            with doors.tokens_for_run() as tokens:
                self._encryption(lines.append, tokens, options)
            self._write_section(Path(options["output"]), lines, P10_HEADING)
            return
        summary_path = Path(options["summary"])
        if not summary_path.exists():
            raise CommandError(f"{summary_path} is missing: run `manage.py seed_synthetic` first.")
        summary = json.loads(summary_path.read_text())
        # Loaded as a request loads them (the membership and the personal-grant flags).
        backend = MembershipBackend()
        users = {
            key: backend.get_user(User.objects.get(username=name).pk)
            for key, name in summary["bench_users"].items()
        }
        superuser = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser(
            "bench-superuser", "bench@example.org", "bench-superuser-password"
        )
        lines: list[str] = []
        # The API tokens of the token door are made for this run and deleted after it.
        with doors.tokens_for_run() as tokens:
            self._measure(lines.append, users, superuser, tokens, options)

        output = Path(options["output"])
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("\n".join(lines) + "\n")
        self.stdout.write("\n".join(lines))
        self.stdout.write(self.style.SUCCESS(f"Written to {output}"))

    def _measure(
        self,
        say: Any,
        users: dict[str, User],
        superuser: User,
        tokens: doors.Tokens,
        options: dict[str, Any],
    ) -> None:
        runs = options["runs"]
        total_cases = Case.objects.count()
        say("# Benchmark results")
        say("")
        say(
            f"Run {timezone.now():%Y-%m-%d %H:%M} on {platform.node()} "
            f"(Python {platform.python_version()}, PostgreSQL {connection.pg_version // 10000}); "
            f"{total_cases:,} cases; {runs} timed runs per "
            "measurement after 3 warm-ups; times in milliseconds, through Django's test client "
            "unless a table says HTTP."
        )
        say("")
        say("| user | agency | cases visible |")
        say("| --- | --- | ---: |")
        for key, user in users.items():
            say(
                f"| {key} (`{user.username}`) | {user.membership.agency.name} "
                f"| {measure.visible_count(user):,} |"
            )
        say("")

        # P1 — queries per request, for page sizes and for small and large users.
        say("## P1 — SQL queries per request")
        say("")
        say("| page | user | 10 | 50 | 100 |")
        say("| --- | --- | ---: | ---: | ---: |")
        p1_ok = True
        for label, url, door in (
            ("case list (HTML)", "/cases/?page_size={n}", doors.SESSION),
            ("case list (API)", "/api/v1/cases/?page_size={n}", doors.SESSION),
            ("case list (API, token)", "/api/v1/cases/?page_size={n}", doors.TOKEN),
            ("notifications (HTML)", "/notifications/?page_size={n}", doors.SESSION),
            ("referral list (API)", "/api/v1/referrals/?page_size={n}", doors.SESSION),
        ):
            for key in ("sees_10", "sees_20000"):
                client = doors.client_at(users[key], door, tokens)
                counts = [measure.count_queries(client, url.format(n=n)) for n in (10, 50, 100)]
                p1_ok &= len(set(counts)) == 1
                say(f"| {label} | {key} | " + " | ".join(map(str, counts)) + " |")
        for label, url in (("referral inbox (HTML)", "/referrals/"),):
            for key in ("sees_10", "sees_20000"):
                say(
                    f"| {label} | {key} "
                    f"| {measure.count_queries(measure.client_for(users[key]), url)} | | |"
                )
        case = Case.objects.filter(lead_agency=users["sees_20000"].membership.agency).first()
        if case is not None:
            count = measure.count_queries(
                measure.client_for(users["sees_20000"]), f"/cases/{case.pk}/"
            )
            say(f"| case page (HTML) | sees_20000 | {count} | | |")
        say("")
        say(f"Same count for every page size: {'yes' if p1_ok else '**no**'}.")
        say(
            "The API case list answers a token in no more queries than a session: "
            "the user is loaded with what scoping needs in one query at both doors."
        )
        say("")

        url = "/api/v1/cases/?page_size=50"
        with self._server(options) as port:
            # P2 — scoped/unscoped: a caseworker's 50-row list with its count vs a superuser's.
            say("## P2 — scoped / unscoped (50-row case list with its count, API)")
            say("")
            self._by_door(
                say,
                {"scoped": users["sees_20pct"], "unscoped": superuser},
                url,
                tokens=tokens,
                runs=runs,
                port=port,
                targets=P2_TARGETS,
            )

            # P3 — the plan uses the grant indexes.
            plan = measure.explain_scoped_list(users["sees_20pct"])
            scans = measure.seq_scans_on_grant_tables(plan)
            say("## P3 — plan of the scoped list")
            say("")
            say(
                f"Sequential scans on a grant table: {len(scans)}"
                + (f" ({'; '.join(scans)})" if scans else "")
                + "."
            )
            say("")
            say("```")
            say(plan)
            say("```")
            say("")
            if options["skip_growth"]:
                say("Growth: not measured (`--skip-growth`).")
            else:
                scoped_client = measure.client_for(users["sees_20pct"])
                unscoped_client = measure.client_for(superuser)
                self._growth(say, scoped_client, unscoped_client, url, users, runs)
            say("")

            # P4 — a user who sees 20% of cases against one who sees 1%.
            say("## P4 — 20% / 1%")
            say("")
            self._by_door(
                say,
                {"sees 20%": users["sees_20pct"], "sees 1%": users["sees_1pct"]},
                url,
                tokens=tokens,
                runs=runs,
                port=port,
                targets=P4_TARGETS,
            )

        # P5 — DRF against a plain view returning the same rows as JSON.
        user = users["sees_20pct"]
        drf, plain = measure.compare(
            {
                "DRF": lambda: measure.drf_case_list(user, 50),
                "values() + json": lambda: measure.plain_case_list(user, 50),
            },
            runs=runs,
        )
        say("## P5 — DRF / plain values() JSON (50 rows with the count)")
        say("")
        self._table(say, [drf, plain])
        say(f"Ratio: median {ratio(drf.median, plain.median):.2f}x (target ≤ 2x).")
        say("")
        self._side_effects(say, users, runs, skip_worker=options["skip_worker"])
        if options["skip_load"]:
            say("## P7 — throughput")
            say("")
            say("Not measured (`--skip-load`).")
        else:
            self._throughput(say, users, options["load_seconds"], options["concurrency"])
        if options["skip_dashboard"]:
            say("## P8 — partnership dashboard")
            say("")
            say("Not measured (`--skip-dashboard`).")
            say("")
        else:
            self._dashboard(say, runs)
        if options["skip_audit_chain"]:
            say("## P9 — audit chain")
            say("")
            say("Not measured (`--skip-audit-chain`).")
            say("")
        else:
            self._audit_chain(say)
        self._encryption(say, tokens, options)

    @staticmethod
    @contextmanager
    def _server(options: dict[str, Any]) -> Iterator[int | None]:
        """gunicorn for the HTTP half of P2 and P4 (one worker, one thread, keep-alive),
        or None with ``--skip-http``."""
        if options["skip_http"]:
            yield None
            return
        with throughput.gunicorn(workers=1, threads=1) as port:
            yield port

    def _by_door(
        self,
        say: Any,
        sides: dict[str, User],
        url: str,
        *,
        tokens: doors.Tokens,
        runs: int,
        port: int | None,
        targets: Targets,
    ) -> None:
        """One ratio at both doors, through the test client and over HTTP: a table per
        door, then every ratio against its target in one table."""
        measured = doors.compare_doors(sides, url, tokens=tokens, runs=runs, port=port)
        say(
            "At both doors: a browser session and an API token, each through Django's test "
            "client and "
            + (
                "over HTTP to gunicorn (one worker with one thread; a persistent keep-alive "
                "connection per user and door)"
                if port is not None
                else "not over HTTP (`--skip-http`)"
            )
            + f". All {sum(len(m.sides) for m in measured)} measurements are timed in turn, "
            "round after round; each ratio divides two measurements of the same door and "
            "transport."
        )
        say("")
        for door in doors.DOORS:
            say(f"### {doors.DOOR_NAMES[door]}")
            say("")
            mine = [m for m in measured if m.door == door]
            self._table(say, [timing for m in mine for timing in m.sides])
            for m in mine:
                say(f"{m.transport[0].upper()}{m.transport[1:]}: {targets.describe(*m.sides)}")
            say("")
        say("| door | transport | median ratio | p95 ratio | within target |")
        say("| --- | --- | ---: | ---: | :-: |")
        for m in measured:
            top, bottom = m.sides
            say(
                f"| {m.door} | {m.transport} | {ratio(top.median, bottom.median):.2f}x "
                f"| {ratio(top.p95, bottom.p95):.2f}x "
                f"| {'yes' if targets.met(top, bottom) else '**no**'} |"
            )
        say("")

    def _growth(
        self, say: Any, scoped_client: Any, unscoped_client: Any, url: str, users: Any, runs: int
    ) -> None:
        """The same list with twice the grants, two ways, each against a "before" measured
        just ahead of it (the machine drifts over minutes)."""

        def pair(label: str) -> list[measure.Timing]:
            # More warm-up than elsewhere: loading two million rows pushes the case table
            # out of PostgreSQL's buffers.
            return measure.compare(
                {
                    f"scoped, {label}": lambda: measure.get_ok(scoped_client, url),
                    f"unscoped, {label}": lambda: measure.get_ok(unscoped_client, url),
                },
                runs=runs,
                warmup=15,
            )

        say(
            "Growth: the same 50-row list with the grant table doubled, two ways. Each "
            'doubling is measured against a "before" taken just ahead of it; the state of '
            "the table cannot be interleaved, so the machine's drift between the two phases "
            "is read off the unscoped list (which reads no grant) and divided out."
        )
        say("")
        results = []
        for new_holders, label, what in (
            (
                True,
                "agencies joined",
                "every grant copied to a new agency that joined the partnership (the "
                "table doubles; the user's own grants do not)",
            ),
            (
                False,
                "second reasons",
                "every grant given a twin for a second reason, to the same agency (the "
                "user's own grant rows double too, for the same cases)",
            ),
        ):
            before = pair("before")
            with side_effects.doubled_grants(self.stderr.write, new_holders=new_holders) as n:
                after = pair(label)
                scans = measure.seq_scans_on_grant_tables(
                    measure.explain_scoped_list(users["sees_20pct"])
                )
            results.append((label, what, n, before, after, scans))
        for label, what, n, before, after, scans in results:
            growth = ratio(after[0].median, before[0].median)
            control = ratio(after[1].median, before[1].median)
            say(f"**{label}**: {what}; {n:,} more rows.")
            say("")
            self._table(say, [before[0], after[0], before[1], after[1]])
            say(
                f"Scoped median, doubled / before, against the control: "
                f"{ratio(growth, control):.2f}x"
                + (" (target ≤ 1.2x)" if label == "agencies joined" else "")
                + f". Raw: scoped moved {growth:.2f}x while the unscoped list, which reads no "
                f"grant, moved {control:.2f}x between the two phases (the machine and its "
                f"caches, not the grants). Sequential scans on a grant table: {len(scans)}."
            )
            say("")

    def _side_effects(
        self, say: Any, users: dict[str, User], runs: int, *, skip_worker: bool
    ) -> None:
        user = users["sees_20pct"]
        agency = user.membership.agency
        client = measure.client_for(user)
        say("## P6 — side effects")
        say("")
        case = (
            Case.objects.filter(lead_agency=agency, identity__isnull=False)
            .exclude(status=CaseStatus.CLOSED)
            .order_by("pk")
            .first()
        )
        if case is None:
            raise CommandError(f"{agency} leads no open case with an identity to read.")
        identity_url = f"/api/v1/cases/{case.pk}/identity/"
        audited, unaudited = measure.compare(
            {
                "identity read, audited": lambda: measure.get_ok(client, identity_url),
                "identity read, audit off": side_effects.audit_switch("casework.reads.record")(
                    lambda: measure.get_ok(client, identity_url)
                ),
            },
            runs=runs,
        )
        # A referral travels only inside a partnership in force.
        to_agency = (
            Agency.objects.filter(
                active=True,
                name__startswith="Synthetic",
                pk__in=agency.partnerships.current().member_ids(),
            )
            .exclude(pk=agency.pk)
            .order_by("pk")
            .first()
        )
        if to_agency is None:
            raise CommandError(f"{agency} shares no partnership in force to refer within.")
        with_notes, without_notes = side_effects.referral_with_and_without_notification(
            user, case, to_agency, runs=runs
        )
        timings = [audited, unaudited, with_notes, without_notes]
        worker = None
        if not skip_worker:
            worker = side_effects.enqueue_to_start(users["sees_10"], case, runs=runs)
            timings.append(worker)
        self._table(say, timings)
        say(
            f"Audited read / audit off: median {ratio(audited.median, unaudited.median):.2f}x "
            "(target ≤ 1.15x)."
        )
        say(
            f"Referral with its notifications ({to_agency.name}'s answering staff) / without: "
            f"median {ratio(with_notes.median, without_notes.median):.2f}x (target ≤ 1.1x)."
        )
        if worker is not None:
            say(
                f"Notification enqueue to start on an idle worker (real Redis, one worker "
                f"process): p95 {worker.p95:.0f} ms (target ≤ 500 ms)."
            )
        else:
            say("Worker latency: not measured (`--skip-worker`).")
        say("")

    def _throughput(
        self, say: Any, users: dict[str, User], seconds: float, concurrency: int
    ) -> None:
        user = users["sees_20000"]
        case = Case.objects.filter(lead_agency=user.membership.agency).order_by("pk").first()
        client = measure.client_for(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        cookie = f"{settings.SESSION_COOKIE_NAME}={session}"
        with throughput.gunicorn(workers=2) as port:
            runs = [
                throughput.load(
                    port, label, path, cookie=cookie, seconds=seconds, concurrency=concurrency
                )
                for label, path in (
                    ("trivial view (`/livez`)", "/livez"),
                    ("case page (HTML)", f"/cases/{case.pk}/"),
                    ("case list (API, 50 rows)", "/api/v1/cases/?page_size=50"),
                )
            ]
        say("## P7 — throughput (gunicorn, 2 workers)")
        say("")
        say(
            f"{concurrency} client threads, one connection each (sync workers close it after "
            f"each response, as in production), {seconds:.0f} s per path, the same signed-in "
            "session for every path; the load generator shares the 2 cores."
        )
        say("")
        say("| path | requests/s | p50 ms | p95 ms | errors |")
        say("| --- | ---: | ---: | ---: | ---: |")
        for run in runs:
            say(f"| {run.label} | {run.rps:.1f} | {run.p50:.1f} | {run.p95:.1f} | {run.errors} |")
        say("")
        trivial = runs[0].rps
        say(
            f"Case page / trivial view: {ratio(runs[1].rps, trivial):.2f} of the trivial view's "
            f"throughput; case list: {ratio(runs[2].rps, trivial):.2f}."
        )
        say("")

    def _dashboard(self, say: Any, runs: int, *, standalone: bool = False) -> None:
        """P8: the busiest partnership's dashboard, published, against the SQL aggregates
        it is built from run through a bare cursor; and the same dashboard read through
        the API by one of its partnership managers, when the data has one."""
        partnership = dashboard_benchmark.largest_partnership()
        scope = Scope.of_partnership(partnership)
        filters = Filters(*default_period())
        calls = dashboard_benchmark.comparison(scope, filters)
        manager = (
            User.objects.filter(
                is_active=True,
                membership__role=Role.PARTNERSHIP_MANAGER,
                membership__agency_id__in=scope.agency_ids,
                membership__agency__active=True,
            )
            .order_by("username")
            .first()
        )
        api_queries = None
        if manager is not None:
            client = measure.client_for(manager)
            url = reverse("api:dashboard-partnership", kwargs={"partnership_id": partnership.pk})
            api_queries = measure.count_queries(client, url)
            calls[f"the API, as `{manager.username}` (test client, audited)"] = lambda: (
                measure.get_ok(client, url)
            )
        dash, raw, *api = measure.compare(calls, runs=runs)
        led = Case.objects.filter(lead_agency_id__in=scope.agency_ids).count()

        say("## P8 — partnership dashboard / the raw SQL aggregates it is built from")
        say("")
        if standalone:
            say(
                f"Run {timezone.now():%Y-%m-%d %H:%M} on {platform.node()} (Python "
                f"{platform.python_version()}, PostgreSQL {connection.pg_version // 10000}) "
                f"with `bench --only dashboard`; {Case.objects.count():,} cases; {runs} timed "
                "runs after 3 warm-ups; times in milliseconds."
            )
            say("")
        say(
            f"{partnership.name} ({len(scope.agencies)} agencies, {led:,} cases led by them), "
            f"the default period {filters.date_from} to {filters.date_to}. The raw side is "
            "the dashboard's own SQL, captured once and sent again through a bare cursor; "
            "the dashboard side builds it through the ORM, arranges the grouped rows and "
            "suppresses it."
            + (
                f" The API side is the whole request: session, scope, the same queries, "
                f"JSON and an audit row ({api_queries} queries)."
                if api
                else " The data has no partnership manager in this partnership, so the "
                "API was not measured."
            )
        )
        say("")
        self._table(say, [dash, raw, *api])
        say(f"Ratio: median {ratio(dash.median, raw.median):.2f}x (target ≤ 3x).")
        if api:
            say(f"API / raw SQL: median {ratio(api[0].median, raw.median):.2f}x (reported).")
        say("")

    def _audit_chain(self, say: Any) -> None:
        """P9: seal what the seed wrote (beat does it a minute at a time), then walk the
        whole chain as ``manage.py audit_verify`` does, once (a full pass is the point)."""
        started = time.monotonic()
        sealed = chain.seal()
        seal_seconds = time.monotonic() - started
        started = time.monotonic()
        verdict = chain.verify()
        verify_seconds = time.monotonic() - started
        per_million = verify_seconds * 1_000_000 / max(verdict.checked, 1)
        say("## P9 — audit chain")
        say("")
        say(
            f"Sealed {sealed:,} rows waiting in {seal_seconds:.1f} s (beat seals a minute's "
            f"worth at a time). `audit_verify` walked {verdict.checked:,} rows in "
            f"{verify_seconds:.1f} s: {per_million:.1f} s per 1,000,000 rows (target < 60 s)"
            + (
                ", intact."
                if verdict.ok
                else f"; broken: {verdict.problem} (a `seed_synthetic --reset` removes "
                "sealed rows)."
            )
        )
        say("")

    def _encryption(self, say: Any, tokens: doors.Tokens, options: dict[str, Any]) -> None:
        """P10: a case page and identity read with encryption at rest and without."""
        if options["skip_http"]:
            encryption.measure_encryption(say, runs=options["runs"], port=None, tokens=tokens)
            return
        with throughput.gunicorn(
            workers=1, threads=1, app="bench.wsgi_plaintext:application"
        ) as port:
            encryption.measure_encryption(say, runs=options["runs"], port=port, tokens=tokens)

    def _write_section(self, output: Path, section: list[str], heading: str) -> None:
        """Put ``section`` in place of its namesake (``heading``) in ``output``, or at its
        end."""
        text = output.read_text() if output.exists() else "# Benchmark results\n"
        start = text.find(heading)
        if start == -1:
            head, tail = text.rstrip("\n") + "\n\n", ""
        else:
            end = text.find("\n## ", start + len(heading))
            head, tail = text[:start], "" if end == -1 else text[end + 1 :]
        merged = head + "\n".join(section).rstrip("\n") + "\n" + ("\n" + tail if tail else "")
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(merged)
        self.stdout.write("\n".join(section))
        self.stdout.write(self.style.SUCCESS(f"{heading[3:]} written to {output}"))

    @staticmethod
    def _table(say: Any, timings: list[measure.Timing]) -> None:
        say("| measurement | median | p95 |")
        say("| --- | ---: | ---: |")
        for timing in timings:
            say(f"| {timing.label} | {timing.median:.1f} | {timing.p95:.1f} |")
        say("")
