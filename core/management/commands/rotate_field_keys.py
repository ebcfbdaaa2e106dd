"""Re-encrypt every encrypted value and file under the newest key of CONCORD_FIELD_KEYS.

Put the new key first in CONCORD_FIELD_KEYS and keep the old ones after it, restart the
app (new writes use the new key; every listed key still reads), then run this. It works in
batches, each committed on its own, and only touches values not yet under the newest key:
stopped half way, it carries on where it was when run again. When it reports nothing left,
remove the old keys. ``--reindex`` recomputes the duplicate-person blind indexes after
CONCORD_BLIND_INDEX_KEY changed.
"""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from tqdm import tqdm

from core.crypto import SEPARATOR, keyring
from core.fields import encrypted_fields
from core.storage import EncryptedFileSystemStorage

logger = logging.getLogger("concord.crypto")


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field and file under the newest key (resumable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what is left; change nothing."
        )
        parser.add_argument(
            "--reindex",
            action="store_true",
            help="Also recompute the blind indexes (after CONCORD_BLIND_INDEX_KEY changed).",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bars.")

    def handle(self, *args: Any, **options: Any) -> None:
        self.batch = max(1, options["batch_size"])
        self.quiet = options["no_progress"]
        ring = keyring()
        newest = ring.newest.key_id
        self.stdout.write(f"Newest key: {newest}; keys that read: {', '.join(ring.key_ids)}")
        total = 0
        for model in apps.get_models():
            for field in encrypted_fields(model):
                table, column = model._meta.db_table, field.column
                left = self._count(table, column, newest)
                if options["dry_run"]:
                    self.stdout.write(f"{table}.{column}: {left} to re-encrypt")
                    continue
                done = self._rotate_column(table, column, field.encryption_context, left)
                total += done
                self.stdout.write(f"{table}.{column}: {done} re-encrypted")
            for field in model._meta.concrete_fields:
                storage = getattr(field, "storage", None)
                if isinstance(storage, EncryptedFileSystemStorage):
                    done = self._rotate_files(model, field, storage, options["dry_run"])
                    total += done
        if options["reindex"] and not options["dry_run"]:
            self._reindex()
        logger.info("rotate_field_keys: %d values and files re-encrypted under %s", total, newest)
        self.stdout.write(self.style.SUCCESS(f"Done: {total} re-encrypted under {newest}."))

    # --- columns ---------------------------------------------------------------------

    def _pending_sql(self, table: str, column: str) -> str:
        quote = connection.ops.quote_name
        return (
            f"FROM {quote(table)} WHERE {quote(column)} IS NOT NULL "
            f"AND {quote(column)} <> '' AND left({quote(column)}, %s) <> %s"
        )

    def _count(self, table: str, column: str, newest: str) -> int:
        prefix = newest + SEPARATOR
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) {self._pending_sql(table, column)}",
                [len(prefix), prefix],
            )
            return cursor.fetchone()[0]

    def _rotate_column(self, table: str, column: str, context: str, left: int) -> int:
        ring, quote = keyring(), connection.ops.quote_name
        prefix = ring.newest.key_id + SEPARATOR
        done, last = 0, 0
        bar = tqdm(total=left, desc=f"{table}.{column}", unit="value", disable=self.quiet)
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, {quote(column)} {self._pending_sql(table, column)} "
                    "AND id > %s ORDER BY id LIMIT %s",
                    [len(prefix), prefix, last, self.batch],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                changes = [
                    (ring.encrypt_text(ring.decrypt_text(old, context), context), pk, old)
                    for pk, old in rows
                ]
                # Only where the value is still the one read: a write made meanwhile by the
                # app is already under the newest key and stays.
                cursor.executemany(
                    f"UPDATE {quote(table)} SET {quote(column)} = %s "  # noqa: S608
                    f"WHERE id = %s AND {quote(column)} = %s",
                    changes,
                )
            last = rows[-1][0]
            done += len(rows)
            bar.update(len(rows))
        bar.close()
        return done

    # --- files -----------------------------------------------------------------------

    def _rotate_files(
        self, model: Any, field: Any, storage: EncryptedFileSystemStorage, dry_run: bool
    ) -> int:
        ring = keyring()
        newest = ring.newest.key_id
        names = list(
            model._default_manager.exclude(**{field.name: ""}).values_list(field.name, flat=True)
        )
        done = left = 0
        label = f"{model._meta.db_table}.{field.column} files"
        for name in tqdm(names, desc=label, unit="file", disable=self.quiet or dry_run):
            if not storage.exists(name):
                continue
            raw = storage.read_raw(name)
            key_id = ring.key_of_bytes(raw)
            if key_id == newest:
                continue
            left += 1
            if dry_run:
                continue
            plain = ring.decrypt_bytes(raw) if key_id is not None else raw
            storage.write_raw(name, ring.encrypt_bytes(plain))
            done += 1
        self.stdout.write(
            f"{label}: {left if dry_run else done} {'to re-encrypt' if dry_run else 're-encrypted'}"
        )
        return done

    # --- blind indexes ---------------------------------------------------------------

    def _reindex(self) -> None:
        identity = apps.get_model("casework", "VictimIdentity")
        queryset = identity.objects.order_by("pk")
        count = 0
        bar = tqdm(
            total=queryset.count(), desc="blind indexes", unit="identity", disable=self.quiet
        )
        batch: list[Any] = []
        for row in queryset.iterator(chunk_size=self.batch):
            row.set_match_tokens()
            batch.append(row)
            if len(batch) >= self.batch:
                identity.objects.bulk_update(batch, ["match_exact", "match_likely"])
                count += len(batch)
                bar.update(len(batch))
                batch = []
        if batch:
            identity.objects.bulk_update(batch, ["match_exact", "match_likely"])
            count += len(batch)
            bar.update(len(batch))
        bar.close()
        self.stdout.write(f"blind indexes: {count} identities recomputed")
