"""Database URLs for the processes ``devtools.services`` starts, and Concord's two roles.

- ``url_of``: the DATABASE_URL of a Django connection, for a process this one starts (a
  Celery worker under the tests, gunicorn under the benchmark) to use the same database.
- ``provision``: given an administrator's URL (a superuser: the embedded server's, or a
  DATABASE_URL of your own without DATABASE_OWNER_URL), create or update the schema
  owner ``<database>_owner`` and the app role ``<database>_app`` (README, "Database
  roles") and return their URLs. ``python -m devtools.database roles ADMIN_URL`` prints
  them as shell exports (``.ci/run``).
"""

from __future__ import annotations

import fcntl
import json
import secrets
import shlex
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
ROLES_SQL = ROOT / "docker" / "postgres" / "concord-roles.sql"
PASSWORDS = ROOT / "var" / "db-roles.json"


def url_of(settings_dict: dict[str, Any]) -> str:
    """``postgresql://user:password@host:port/name?options`` of ``connection.settings_dict``
    (under the tests, the test database ``test_…``)."""
    s = settings_dict
    auth = ""
    if s["USER"]:
        auth = quote(s["USER"], safe="")
        if s["PASSWORD"]:
            auth += ":" + quote(s["PASSWORD"], safe="")
        auth += "@"
    host = quote(s["HOST"] or "", safe="")  # a socket directory is percent-encoded
    port = f":{s['PORT']}" if s["PORT"] else ""
    # The settings add their own per-connection "options" (planner settings) again.
    options = {k: v for k, v in s["OPTIONS"].items() if isinstance(v, str | int) and k != "options"}
    query = f"?{urlencode(options)}" if options else ""
    return f"postgresql://{auth}{host}{port}/{quote(s['NAME'], safe='')}{query}"


class NotAnAdministrator(Exception):
    """The URL's role cannot create Concord's roles (it is not a superuser)."""


def with_role(url: str, user: str, password: str, database: str | None = None) -> str:
    """``url`` with another user and password (and database)."""
    parts = urlsplit(url)
    address = parts.netloc.rpartition("@")[2]
    auth = f"{quote(user, safe='')}:{quote(password, safe='')}@"
    path = f"/{quote(database, safe='')}" if database is not None else parts.path
    return urlunsplit((parts.scheme, auth + address, path, parts.query, parts.fragment))


def database_of(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def role_names(database: str) -> tuple[str, str]:
    return f"{database}_owner", f"{database}_app"


def _passwords(*roles: str) -> dict[str, str]:
    """Each role's password, made once and kept in var/ (never printed). Under a lock:
    several checkouts' runs may share the file."""
    PASSWORDS.parent.mkdir(exist_ok=True)
    with open(PASSWORDS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        known: dict[str, str] = json.loads(PASSWORDS.read_text()) if PASSWORDS.exists() else {}
        if any(role not in known for role in roles):
            for role in roles:
                known.setdefault(role, secrets.token_urlsafe(24))
            fresh = PASSWORDS.with_suffix(".new")
            fresh.touch(mode=0o600)
            fresh.write_text(json.dumps(known, indent=2) + "\n")
            fresh.replace(PASSWORDS)
    return {role: known[role] for role in roles}


def provision(admin_url: str) -> tuple[str, str]:
    """Create (or bring up to date) the owner and the app role of the database that
    ``admin_url`` names, creating the database if needed; returns (owner URL, app URL).
    The owner may create databases: it runs the test suite, which makes its own."""
    import psycopg2
    from psycopg2 import sql

    database = database_of(admin_url)
    owner, app = role_names(database)
    passwords = _passwords(owner, app)
    maintenance = psycopg2.connect(on_database(admin_url, "postgres"))
    maintenance.autocommit = True
    try:
        with maintenance.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if not cursor.fetchone()[0]:
                raise NotAnAdministrator("the role of the URL is not a superuser")
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        target = psycopg2.connect(admin_url)
        target.autocommit = True
        try:
            with target.cursor() as cursor:
                for name, value in (
                    ("owner_role", owner),
                    ("owner_password", passwords[owner]),
                    ("app_role", app),
                    ("app_password", passwords[app]),
                    ("owner_createdb", "on"),
                ):
                    cursor.execute("SELECT set_config(%s, %s, false)", [f"concord.{name}", value])
                cursor.execute(ROLES_SQL.read_text())
        finally:
            target.close()
        with maintenance.cursor() as cursor:
            # A test database left by an earlier run, made before the roles: the owner
            # must own it to drop it.
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [f"test_{database}"])
            if cursor.fetchone() is not None:
                cursor.execute(
                    sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                        sql.Identifier(f"test_{database}"), sql.Identifier(owner)
                    )
                )
    finally:
        maintenance.close()
    return with_role(admin_url, owner, passwords[owner]), with_role(admin_url, app, passwords[app])


def on_database(url: str, database: str) -> str:
    """``url`` naming another database."""
    parts = urlsplit(url)
    return urlunsplit(
        (parts.scheme, parts.netloc, f"/{quote(database, safe='')}", parts.query, parts.fragment)
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "roles":
        print("usage: python -m devtools.database roles ADMIN_URL", file=sys.stderr)
        return 2
    owner_url, app_url = provision(argv[1])
    print(f"export DATABASE_OWNER_URL={shlex.quote(owner_url)}")
    print(f"export DATABASE_URL={shlex.quote(app_url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
