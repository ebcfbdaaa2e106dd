"""Least-privilege database roles.

Web, worker and beat connect as the app role (DATABASE_URL), which owns nothing: on the
audit table it may INSERT and SELECT, and nothing else — not UPDATE, DELETE or TRUNCATE,
not ALTER the table or switch its trigger off. The suite runs as the schema owner
(DATABASE_OWNER_URL), which migrated the test database and granted the app role; these
tests connect to that database as the app role itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
from django.core.management import call_command
from django.db import ProgrammingError, connection, transaction
from psycopg2 import errors

from audit import chain, roles
from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from audit.record import record
from conftest import need_service

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table
TRIGGER = "audit_event_append_only"


def _need_two_roles() -> dict[str, Any]:
    if not roles.separate_roles():
        need_service(
            "DATABASE_OWNER_URL is not set (or names the app's role): no separate app role "
            "to test (make test creates both)"
        )
    return roles.app_role()


@pytest.fixture
def as_app() -> Iterator[Any]:
    """A psycopg2 connection to the test database as the app role, in a transaction that
    is rolled back after every statement tried (nothing it writes outlives the test)."""
    app = _need_two_roles()
    test = connection.settings_dict
    options = test["OPTIONS"]
    conn = psycopg2.connect(
        dbname=test["NAME"],
        user=app["USER"],
        password=app["PASSWORD"] or None,
        host=test["HOST"] or options.get("host") or None,
        port=test["PORT"] or options.get("port") or None,
    )
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


def _refused(conn: Any, sql: str, params: list[Any] | None = None) -> str:
    """The app role's statement fails for want of a privilege; returns the message."""
    with pytest.raises(errors.InsufficientPrivilege) as refusal, conn.cursor() as cursor:
        cursor.execute(sql, params)
    conn.rollback()
    return str(refusal.value)


def _insert(cursor: Any) -> int:
    cursor.execute(
        f"INSERT INTO {TABLE} (occurred_at, action, target_type, target_id, request_id, "
        "detail, chain_hash) VALUES (now(), 'test.app_role', '', '', '', '{}', '') "
        "RETURNING id"
    )
    return cursor.fetchone()[0]


def test_the_app_role_owns_nothing_and_may_create_nothing(as_app):
    with as_app.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
            "FROM pg_roles WHERE rolname = current_user"
        )
        assert cursor.fetchone() == (False, False, False, False, False)
        cursor.execute(
            "SELECT count(*) FROM pg_shdepend WHERE refclassid = 'pg_authid'::regclass "
            "AND deptype = 'o' AND refobjid = (SELECT oid FROM pg_roles "
            "WHERE rolname = current_user)"
        )
        assert cursor.fetchone()[0] == 0  # owns nothing, in any database
        cursor.execute(
            "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
            "WHERE r.rolname = current_user"
        )
        assert cursor.fetchone()[0] == 0  # inherits no other role's privileges
        cursor.execute(
            "SELECT has_database_privilege(current_database(), 'CREATE'), "
            "has_schema_privilege(current_schema(), 'CREATE')"
        )
        assert cursor.fetchone() == (False, False)
    assert "permission denied for schema" in _refused(as_app, "CREATE TABLE concord_x (id int)")


def test_the_app_role_may_insert_and_select_audit_rows(as_app):
    with as_app.cursor() as cursor:
        event_id = _insert(cursor)
        cursor.execute(f"SELECT action FROM {TABLE} WHERE id = %s", [event_id])
        assert cursor.fetchone() == ("test.app_role",)
    as_app.rollback()


@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        (f"UPDATE {TABLE} SET action = 'rewritten'", "permission denied for table"),
        (f"UPDATE {TABLE} SET chain_seq = 1, chain_hash = repeat('a', 64)", "permission denied"),
        (f"DELETE FROM {TABLE}", "permission denied for table"),
        (f"TRUNCATE {TABLE}", "permission denied for table"),
        (f"ALTER TABLE {TABLE} ADD COLUMN forged text", "must be owner of table"),
        (f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}", "must be owner of table"),
        (f"ALTER TABLE {TABLE} DISABLE TRIGGER ALL", "must be owner of table"),
        (f"DROP TRIGGER {TRIGGER} ON {TABLE}", "must be owner of"),
        (f"DROP TABLE {TABLE}", "must be owner of table"),
        (
            f"CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
            "permission denied for schema",  # may not create in it, let alone replace
        ),
        (
            "ALTER FUNCTION audit_seal(bigint[], bigint[], text[]) OWNER TO CURRENT_USER",
            "must be owner of function",
        ),
        ("SET session_replication_role = replica", "permission denied to set parameter"),
    ],
    ids=[
        "update",
        "update-chain-columns",
        "delete",
        "truncate",
        "alter-table",
        "disable-trigger",
        "disable-all-triggers",
        "drop-trigger",
        "drop-table",
        "replace-trigger-function",
        "take-seal-function",
        "triggers-off-for-the-session",
    ],
)
def test_the_app_role_cannot_change_or_unprotect_the_audit_table(as_app, sql, refusal):
    with as_app.cursor() as cursor:
        _insert(cursor)  # a row to refuse to change (rolled back with the statement)
    message = _refused(as_app, sql)
    assert refusal in message
    assert "append-only" not in message  # refused by the privileges, not the trigger


def test_the_app_role_seals_through_the_owners_function_only(as_app):
    seal = "SELECT audit_seal(%s::bigint[], %s::bigint[], %s::text[])"
    with as_app.cursor() as cursor:
        event_id = _insert(cursor)
        cursor.execute(f"SELECT coalesce(max(chain_seq), 0) FROM {TABLE}")
        head = cursor.fetchone()[0]
        cursor.execute(seal, [[event_id], [head + 1], ["a" * 64]])
        assert cursor.fetchone()[0] == 1
        cursor.execute(seal, [[event_id], [head + 2], ["b" * 64]])
        assert cursor.fetchone()[0] == 0  # sealed once: the function leaves it alone
        cursor.execute(f"SELECT chain_seq, chain_hash FROM {TABLE} WHERE id = %s", [event_id])
        assert cursor.fetchone() == (head + 1, "a" * 64)
    as_app.rollback()


def test_the_seal_function_takes_places_only_right_after_the_head(as_app):
    """A place far ahead (2^63-1 made every later seal overflow) or a gap is refused."""
    seal = "SELECT audit_seal(%s::bigint[], %s::bigint[], %s::text[])"
    with as_app.cursor() as cursor:
        event_id = _insert(cursor)
        cursor.execute(f"SELECT coalesce(max(chain_seq), 0) FROM {TABLE}")
        head = cursor.fetchone()[0]
    for places in ([2**63 - 1], [head + 2], [head]):
        with as_app.cursor() as cursor:
            event_id = _insert(cursor)
        message = _refused(as_app, seal, [[event_id], places, ["a" * 64]])
        assert "places must follow the head" in message


def test_the_app_role_cannot_insert_a_row_already_in_the_chain(as_app):
    """A row inserted sealed would sit in the chain without the sealer (or, sealed by half,
    stop every later seal)."""
    insert = (
        f"INSERT INTO {TABLE} (occurred_at, action, target_type, target_id, request_id, "
        "detail, chain_seq, chain_hash) VALUES (now(), 'forged', '', '', '', '{}', %s, %s)"
    )
    for seq, digest in ((None, "f" * 64), (10**15, "f" * 64), (10**15, "")):
        assert "start unsealed" in _refused(as_app, insert, [seq, digest])


def test_the_app_role_keeps_the_rest_of_its_work(as_app):
    """Everything else is ordinary data: the app changes it; the migration history it
    only reads."""
    with as_app.cursor() as cursor:
        cursor.execute("UPDATE agencies_agency SET name = name WHERE false")
        cursor.execute("DELETE FROM django_session WHERE false")
        cursor.execute("SELECT count(*) FROM django_migrations")
    as_app.rollback()
    message = _refused(as_app, "DELETE FROM django_migrations WHERE false")
    assert "permission denied for table django_migrations" in message


def test_no_other_role_may_call_the_seal_function():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_function_privilege('public', 'audit_seal(bigint[], bigint[], text[])', "
            "'EXECUTE'), (SELECT prosecdef FROM pg_proc WHERE proname = 'audit_seal'), "
            "(SELECT proconfig FROM pg_proc WHERE proname = 'audit_seal')"
        )
        public, definer, config = cursor.fetchone()
    assert not public and definer
    assert config == ["search_path=pg_catalog, pg_temp"]


def test_granting_again_changes_nothing():
    _need_two_roles()
    call_command("grant_app_role")
    call_command("grant_app_role")


@pytest.mark.django_db(transaction=True)
def test_beat_seals_the_chain_as_the_app_role():
    app = _need_two_roles()
    trail = [record(AuthAction.LOGIN, detail={"n": n}) for n in range(3)]
    with roles.connected_as(app, database=False):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == app["USER"]
        assert chain.seal() == 3
        assert chain.verify().ok
        with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
            AuditEvent.objects.filter(pk=trail[0].pk).update(action="auth.logout")
    assert chain.verify().ok
