"""``manage.py audit_verify``: is the audit trail's hash chain intact?"""

from __future__ import annotations

import re
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit import chain

ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


def _anchor(value: str) -> tuple[int, str]:
    match = ANCHOR.match(value.strip())
    if match is None:
        raise CommandError(
            "--anchor takes PLACE:HASH as the published head gives it, e.g. 1234:9f86d0…"
        )
    return int(match.group(1)), match.group(2)


class Command(BaseCommand):
    help = (
        "Walk the audit trail's hash chain. Exits 0 when it is intact, 1 naming the first "
        "row that was changed, removed or inserted out of order. With --anchor PLACE:HASH "
        "(a head published by the hourly job), also whether the chain still leads there."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--anchor", help="a published head, PLACE:HASH")
        parser.add_argument(
            "--seal",
            action="store_true",
            help="seal the rows waiting first (what the minutely job does)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        anchor = _anchor(options["anchor"]) if options["anchor"] else None
        if options["seal"]:
            self.stdout.write(f"sealed {chain.seal():,} rows")
        started = time.monotonic()
        verdict = chain.verify(
            anchor=anchor, progress=lambda n: self.stdout.write(f"  {n:,} rows checked")
        )
        seconds = time.monotonic() - started
        seq, digest = verdict.head
        if not verdict.ok:
            raise CommandError(
                f"The audit chain is broken after {verdict.checked:,} intact rows: "
                f"{verdict.problem}."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"The audit chain is intact: {verdict.checked:,} rows in {seconds:.1f}s; head "
                f"at place {seq}, hash {digest}."
            )
        )
        if verdict.unsealed:
            self.stdout.write(
                f"{verdict.unsealed:,} rows are not sealed yet (the minutely job seals them; "
                "until then only the append-only trigger protects them)."
            )
