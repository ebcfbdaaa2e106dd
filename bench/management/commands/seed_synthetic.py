"""python manage.py seed_synthetic: a large synthetic partnership for benchmarks.

Default size: 100,000 cases led by 50 agencies in 5 partnerships with 1,000 users, about
2 referrals, 5 needs, 5 notes and 1 document (metadata only) per case, consents, audit
history, and the grants all of that implies. ``--quick`` makes a small one. The same
``--seed`` gives the same data. Every synthetic row is marked (agencies "Synthetic Agency
NN", users "synth-NNNN", cases "SYN-NNNNNN") so ``--reset`` finds it and nothing else.

At the end it names users who see about 10 cases, 1 % and 20 % of cases and 20,000 cases,
and writes them to var/synthetic-summary.json for ``manage.py bench``.
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from bench.synthetic import reset, summary
from bench.synthetic.generate import Generator
from bench.synthetic.sizes import DEFAULT_SIZES, QUICK_SIZES, Sizes

SIZE_OPTIONS = {
    "cases": int,
    "agencies": int,
    "partnerships": int,
    "users": int,
    "referrals_per_case": float,
    "needs_per_case": float,
    "notes_per_case": float,
    "documents_per_case": float,
}


class Command(BaseCommand):
    help = (
        "Load a large synthetic partnership (COPY, in batches) for benchmarks. "
        "Deterministic with --seed; --reset deletes an earlier one first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        for name, kind in SIZE_OPTIONS.items():
            parser.add_argument(
                f"--{name.replace('_', '-')}",
                type=kind,
                dest=name,
                default=None,
                help=f"default {getattr(DEFAULT_SIZES, name):,}; "
                f"with --quick {getattr(QUICK_SIZES, name):,}",
            )
        parser.add_argument(
            "--quick",
            action="store_true",
            help="a small partnership: 2,000 cases, 10 agencies in 2 partnerships, 100 users",
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--password",
            default="synthetic-password-1",
            help="password of every synthetic user (hashed once)",
        )
        parser.add_argument(
            "--reset", action="store_true", help="delete earlier synthetic data first"
        )
        parser.add_argument(
            "--reset-only", action="store_true", help="delete synthetic data and stop"
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=10_000,
            help="cases per COPY transaction (default 10,000)",
        )
        parser.add_argument(
            "--row-checks",
            action="store_true",
            help="check foreign keys row by row as PostgreSQL normally does (slower) instead "
            "of skipping the per-row triggers during the load and verifying every key after",
        )
        parser.add_argument(
            "--anchor",
            type=datetime.date.fromisoformat,
            default=None,
            help="the day the data ends (YYYY-MM-DD, default today): every time is before it",
        )
        parser.add_argument(
            "--summary",
            type=Path,
            default=Path(settings.VAR_DIR) / "synthetic-summary.json",
            help="where to write the users picked for the benchmark (JSON)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.IS_PRODUCTION:
            raise CommandError(
                "seed_synthetic writes fabricated cases and refuses to run with "
                "CONCORD_ENV=production. Use a scratch database with CONCORD_ENV=demo."
            )
        if connection.vendor != "postgresql":
            raise CommandError("seed_synthetic loads with PostgreSQL's COPY.")
        started = time.monotonic()
        log = self.stdout.write

        base = QUICK_SIZES if options["quick"] else DEFAULT_SIZES
        sizes = Sizes(
            **{
                name: options[name] if options[name] is not None else getattr(base, name)
                for name in SIZE_OPTIONS
            }
        )
        problems = sizes.problems()
        if problems:
            raise CommandError("; ".join(problems))
        day = options["anchor"] or datetime.datetime.now(datetime.UTC).date()
        if isinstance(day, str):  # call_command(anchor="2026-01-31") skips argparse's type
            day = datetime.date.fromisoformat(day)
        anchor = datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)

        # Only now, with every option understood, may anything be deleted.
        if options["reset"] or options["reset_only"]:
            removed = reset.delete_synthetic(log)
            for label, count in sorted(removed.items()):
                log(f"  {label}: {count:,}")
            if options["reset_only"]:
                return
        elif reset.synthetic_data_exists():
            raise CommandError(
                "Synthetic data is already loaded; add --reset to replace it "
                "(demo and other data are left alone)."
            )

        log(
            f"Seeding {sizes.cases:,} cases, {sizes.agencies} agencies in "
            f"{sizes.partnerships} partnerships, {sizes.users:,} users "
            f"(seed {options['seed']}, times before {anchor:%Y-%m-%d})"
        )
        generator = Generator(
            sizes=sizes,
            seed=options["seed"],
            password=options["password"],
            anchor=anchor,
            batch=options["batch_size"],
            log=log,
            skip_row_checks=not options["row_checks"],
        )
        counts = generator.run()
        loaded = time.monotonic()

        self._analyze(counts, generator.progress)
        analyzed = time.monotonic()

        result = summary.build(
            total_cases=sizes.cases,
            extra={
                **generator.describe(),
                "counts": counts,
                "seconds": {
                    "load": round(loaded - started, 1),
                    "analyze": round(analyzed - loaded, 1),
                },
            },
        )
        summary.write(result, Path(options["summary"]))
        log("Rows loaded:")
        for label, count in counts.items():
            log(f"  {label:<28} {count:>10,}")
        log(f"  {'total':<28} {sum(counts.values()):>10,}")
        for line in summary.lines(result):
            log(line)
        log(f"Summary written to {options['summary']}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Synthetic partnership loaded in {time.monotonic() - started:.1f}s "
                "(the password of every synthetic user is the one given by --password)."
            )
        )

    def _analyze(self, counts: dict[str, int], progress: Any) -> None:
        """Fresh statistics for the planner; VACUUM too when outside a transaction, so the
        grant tables' visibility map is set and the scoping subquery can be index-only."""
        tables = [apps.get_model(label)._meta.db_table for label in counts]
        quote = connection.ops.quote_name
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"{command} {quote(table)}")
        progress(f"{command} on {len(tables)} tables")
