"""COPY rows into a model's table through the driver under Django's connection.

Rows are tuples of Python values in the order of the fields named when the ``Table`` is
made; every other NOT NULL column gets its model default, or the table refuses to be made
(so a field added to a model later fails here, loudly, instead of half-way through a load).
Everything runs on Django's own connection, so ``transaction.atomic()`` covers it.
"""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: Any) -> str:
    return str(value).translate(_ESCAPES)


def _boolean(value: Any) -> str:
    return "t" if value else "f"


def _moment(value: datetime.date) -> str:
    return value.isoformat()


class RawJSON(str):
    """Text that is already JSON: written as it is (json.dumps is slow on hot rows)."""


def _json(value: Any) -> str:
    text = value if isinstance(value, RawJSON) else json.dumps(value)
    return text.translate(_ESCAPES)


def _array_item(value: Any) -> str:
    text = str(value)
    if text == "" or any(c in text for c in ' ,{}"\\') or text.upper() == "NULL":
        text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def _array(value: Sequence[Any]) -> str:
    return ("{" + ",".join(_array_item(v) for v in value) + "}").translate(_ESCAPES)


def _formatter(field: models.Field) -> Callable[[Any], str]:
    if getattr(field, "encrypted", False):
        # Encrypted at rest (core.fields): the ciphertext the app would write.
        return lambda value: _text(field.get_db_prep_value(value, connection))
    if isinstance(field, models.BooleanField):
        return _boolean
    if isinstance(field, ArrayField):
        return _array
    if isinstance(field, models.JSONField):
        return _json
    if isinstance(field, models.DateField):  # DateTimeField too
        return _moment
    if isinstance(field, (models.IntegerField, models.AutoField, models.ForeignKey)):
        return str
    return _text


def _is_auto_pk(field: models.Field) -> bool:
    return field.primary_key and isinstance(
        field, (models.AutoField, models.BigAutoField, models.SmallAutoField)
    )


class Table:
    """One model's table, ready to take rows for the named fields (attnames)."""

    def __init__(self, model: type[models.Model], fields: str | Sequence[str]) -> None:
        """``fields``: attnames, as a sequence or one whitespace-separated string."""
        if isinstance(fields, str):
            fields = fields.split()
        opts = model._meta
        by_name: dict[str, models.Field] = {}
        for field in opts.concrete_fields:
            by_name[field.attname] = field
            by_name[field.name] = field
        try:
            chosen = [by_name[name] for name in fields]
        except KeyError as error:
            raise ImproperlyConfigured(f"{opts.label} has no field {error}") from None
        given = {field.attname for field in chosen}
        constants: list[models.Field] = []
        constant_values: list[str] = []
        for field in opts.concrete_fields:
            if field.attname in given or _is_auto_pk(field):
                continue
            value = field.get_default()
            if not (field.has_default() or field.null or field.blank) or (
                value is None and not field.null
            ):
                raise ImproperlyConfigured(
                    f"{opts.label}.{field.name} is required and the synthetic loader does "
                    "not fill it: add it to bench/synthetic."
                )
            constants.append(field)
            constant_values.append(NULL if value is None else _formatter(field)(value))
        self.model = model
        self.label = opts.label
        self.name = opts.db_table
        self.formatters = [_formatter(field) for field in chosen]
        self.suffix = "".join("\t" + v for v in constant_values)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in [*chosen, *constants])
        self.sql = f"COPY {quote(self.name)} ({columns}) FROM STDIN"

    def encode(self, rows: Iterable[Sequence[Any]]) -> bytes:
        formatters = self.formatters
        suffix = self.suffix
        try:
            lines = [
                "\t".join(
                    [NULL if v is None else f(v) for f, v in zip(formatters, row, strict=True)]
                )
                + suffix
                for row in rows
            ]
        except (AttributeError, TypeError, ValueError) as error:
            bad = next(r for r in rows if not self._encodes(r))
            raise ValueError(f"{self.label}: cannot encode row {bad!r}: {error}") from error
        if not lines:
            return b""
        return ("\n".join(lines) + "\n").encode()

    def _encodes(self, row: Sequence[Any]) -> bool:
        try:
            for f, v in zip(self.formatters, row, strict=True):
                if v is not None:
                    f(v)
        except (AttributeError, TypeError, ValueError):
            return False
        return True

    def copy(self, rows: Iterable[Sequence[Any]]) -> int:
        """COPY the rows in; returns how many. Runs in the caller's transaction."""
        return self.copy_encoded(self.encode(rows))

    def copy_encoded(self, data: bytes) -> int:
        """COPY rows already encoded by ``encode``."""
        if not data:
            return 0
        connection.ensure_connection()
        raw = connection.connection
        with raw.cursor() as cursor:
            if hasattr(cursor, "copy_expert"):  # psycopg2
                cursor.copy_expert(self.sql, io.BytesIO(data), size=1 << 20)
            else:  # psycopg 3
                with cursor.copy(self.sql) as copy:
                    copy.write(data)
            return int(cursor.rowcount)


class IdPool:
    """Primary keys taken from the table's own sequence, a block at a time, so rows can
    reference each other before they are written and nothing else ever collides with them.
    Ids left over in the last block are simply never used (a gap, as after a rollback)."""

    def __init__(self, model: type[models.Model], block: int = 10_000) -> None:
        self.table = model._meta.db_table
        self.column = model._meta.pk.column
        self.block = block
        self._ids: list[int] = []
        self._next = 0
        self._sequence: str | None = None

    def _reserve(self, count: int) -> None:
        with connection.cursor() as cursor:
            if self._sequence is None:
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [self.table, self.column])
                self._sequence = cursor.fetchone()[0]
                if self._sequence is None:
                    raise ImproperlyConfigured(f"{self.table}.{self.column} has no sequence")
            cursor.execute(
                "SELECT nextval(%s) FROM generate_series(1, %s) ORDER BY 1",
                [self._sequence, count],
            )
            self._ids = [row[0] for row in cursor.fetchall()]
            self._next = 0

    def take(self) -> int:
        if self._next >= len(self._ids):
            self._reserve(self.block)
        value = self._ids[self._next]
        self._next += 1
        return value
