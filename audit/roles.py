"""Least-privilege database roles (item 2; README, "Database roles").

Two PostgreSQL roles share Concord's database:

- the **owner** (``DATABASE_OWNER_URL``) owns the schema: ``manage.py migrate`` connects as
  it, and so does the test runner, which creates its own database;
- the **app** (``DATABASE_URL``: web, worker, beat) owns nothing and holds only what the
  code needs: SELECT, INSERT, UPDATE and DELETE on the tables, but INSERT and SELECT only
  on the append-only audit table, and EXECUTE on ``audit_seal`` (migration 0004), through
  which beat seals audit rows into the chain.

``grant_app_role`` sets the app role's privileges to exactly that; ``migrate`` runs it
after every migration (a new table is granted in the same command that creates it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from .models import AuditEvent

# Tables the app may only append to and read.
APPEND_ONLY_TABLES = (AuditEvent._meta.db_table,)
# Tables the app only reads (the migration history belongs to the owner).
READ_ONLY_TABLES = ("django_migrations",)
SEAL_FUNCTION = "audit_seal(bigint[], bigint[], text[])"
_ADDRESS = ("USER", "PASSWORD", "HOST", "PORT")
_SOCKET = ("host", "port")  # OPTIONS that carry the address (a socket directory)


class RoleError(Exception):
    """The roles are not what Concord needs (the message says what to change)."""


def app_role() -> dict[str, Any]:
    """The app's connection settings (DATABASE_URL)."""
    return settings.DATABASE_ROLES["app"]


def owner_role() -> dict[str, Any] | None:
    """The owner's connection settings (DATABASE_OWNER_URL), or None for one role."""
    return settings.DATABASE_ROLES["owner"]


def separate_roles() -> bool:
    owner = owner_role()
    return owner is not None and owner["USER"] != app_role()["USER"]


def use_role(
    role: dict[str, Any], *, alias: str = "default", database: bool = True
) -> BaseDatabaseWrapper:
    """Point the connection ``alias`` at ``role``: its user, password and address and,
    with ``database``, its database. Closes the connection: not inside a transaction."""
    connection = connections[alias]
    connection.close()
    connection.settings_dict.update({key: role.get(key, "") for key in _ADDRESS})
    options = {k: v for k, v in connection.settings_dict["OPTIONS"].items() if k not in _SOCKET}
    options.update({k: v for k, v in role.get("OPTIONS", {}).items() if k in _SOCKET})
    connection.settings_dict["OPTIONS"] = options
    if database:
        connection.settings_dict["NAME"] = role["NAME"]
    return connection


@contextlib.contextmanager
def connected_as(
    role: dict[str, Any], *, alias: str = "default", database: bool = True
) -> Iterator[BaseDatabaseWrapper]:
    """The connection ``alias`` as ``role`` (``use_role``) until the block ends."""
    connection = connections[alias]
    saved = dict(connection.settings_dict)
    try:
        yield use_role(role, alias=alias, database=database)
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@contextlib.contextmanager
def as_owner(alias: str = "default") -> Iterator[BaseDatabaseWrapper]:
    """The connection as the schema owner, when that is another role than its own."""
    owner = owner_role()
    connection = connections[alias]
    if owner is None or connection.settings_dict["USER"] == owner["USER"]:
        yield connection  # one role, or already the owner (the test runner)
        return
    if owner["NAME"] != connection.settings_dict["NAME"]:
        raise RoleError(
            "DATABASE_URL and DATABASE_OWNER_URL name different databases "
            f"({connection.settings_dict['NAME']!r}, {owner['NAME']!r}): they must be one."
        )
    with connected_as(owner, alias=alias) as owned:
        yield owned


def _one(cursor: Any, sql: str, params: list[Any] | None = None) -> Any:
    cursor.execute(sql, params or [])
    return cursor.fetchone()[0]


def check_app_role(cursor: Any, app: str) -> None:
    """Refuse an app role that could do more than its grants: a superuser, one that may
    create databases or roles, a member of another role, or one that owns anything."""
    cursor.execute(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
        "FROM pg_roles WHERE rolname = %s",
        [app],
    )
    found = cursor.fetchone()
    if found is None:
        raise RoleError(f"the app role {app!r} (DATABASE_URL) does not exist")
    names = ("SUPERUSER", "CREATEDB", "CREATEROLE", "REPLICATION", "BYPASSRLS")
    powers = [name for name, held in zip(names, found, strict=True) if held]
    if powers:
        raise RoleError(f"the app role {app!r} must not have {', '.join(powers)}")
    if _one(
        cursor,
        "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
        "WHERE r.rolname = %s",
        [app],
    ):
        raise RoleError(f"the app role {app!r} must not be a member of another role")
    owned = _one(
        cursor,
        "SELECT count(*) FROM pg_shdepend d JOIN pg_roles r ON r.oid = d.refobjid "
        "WHERE d.refclassid = 'pg_authid'::regclass AND d.deptype = 'o' AND r.rolname = %s",
        [app],
    )
    if owned:
        raise RoleError(
            f"the app role {app!r} owns {owned} objects: REASSIGN OWNED BY it TO the owner"
        )


def grant_app_role(connection: BaseDatabaseWrapper, app: str) -> None:
    """Give the app role exactly its privileges in the connection's schema; run as the
    owner of every table there, after each migration. Idempotent."""
    quote = connection.ops.quote_name
    role = quote(app)
    # One transaction: the app never sees its privileges revoked and not yet granted.
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        check_app_role(cursor, app)
        schema_name = _one(cursor, "SELECT current_schema()")
        others = _one(
            cursor,
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'S') "
            "AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)",
            [schema_name],
        )
        if others:
            raise RoleError(
                f"{others} tables or sequences in schema {schema_name!r} are not owned by "
                f"{connection.settings_dict['USER']!r}: give them to the owner first "
                "(README, 'Database roles')"
            )
        schema = quote(schema_name)
        statements = [
            f"GRANT USAGE ON SCHEMA {schema} TO {role}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        ]
        if _one(cursor, "SELECT to_regprocedure(%s) IS NOT NULL", [f"{schema}.{SEAL_FUNCTION}"]):
            statements.append(f"GRANT EXECUTE ON FUNCTION {schema}.{SEAL_FUNCTION} TO {role}")
        for table in APPEND_ONLY_TABLES:
            statements.append(f"REVOKE UPDATE, DELETE ON {schema}.{quote(table)} FROM {role}")
        for table in READ_ONLY_TABLES:
            statements.append(
                f"REVOKE INSERT, UPDATE, DELETE ON {schema}.{quote(table)} FROM {role}"
            )
        for statement in statements:
            cursor.execute(statement)
