"""Helpers for the data migrations that encrypt columns which were plain text.

They use SQL and ``core.crypto`` directly, not historical models: a value is read as the
plain text the old column held and written as ciphertext, in batches by primary key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .crypto import keyring

BATCH = 2000


def encrypt_plain_columns(
    schema_editor: Any,
    table: str,
    columns: tuple[str, ...],
    *,
    also: Callable[[dict[str, str]], dict[str, Any]] | None = None,
) -> int:
    """Encrypt every non-empty value of ``columns`` in ``table``; ``also(row)`` may return
    more columns to set from the plain values (blind indexes). Returns rows changed."""
    ring, quote = keyring(), schema_editor.quote_name
    names = ", ".join(quote(column) for column in columns)
    changed, last = 0, 0
    with schema_editor.connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT id, {names} FROM {quote(table)} WHERE id > %s ORDER BY id LIMIT %s",  # noqa: S608
                [last, BATCH],
            )
            rows = cursor.fetchall()
            if not rows:
                return changed
            for pk, *values in rows:
                last = pk
                plain = {column: value or "" for column, value in zip(columns, values, strict=True)}
                updates: dict[str, Any] = {
                    column: ring.encrypt_text(value, f"{table}.{column}") if value else ""
                    for column, value in plain.items()
                }
                if also is not None:
                    updates.update(also(plain))
                assignments = ", ".join(f"{quote(column)} = %s" for column in updates)
                cursor.execute(
                    f"UPDATE {quote(table)} SET {assignments} WHERE id = %s",  # noqa: S608
                    [*updates.values(), pk],
                )
                changed += 1


def encrypt_models(app_label: str, columns: list[tuple[str, tuple[str, ...]]]) -> Callable:
    """A ``RunPython`` function encrypting ``columns`` (model name, column names) of
    ``app_label``'s models, which held plain text until the migration that runs it."""

    def run(apps: Any, schema_editor: Any) -> None:
        for model, names in columns:
            table = apps.get_model(app_label, model)._meta.db_table
            encrypt_plain_columns(schema_editor, table, names)

    return run
