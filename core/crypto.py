"""Encryption at rest for the fields and files that identify a person.

The cipher is AES-256-GCM from ``cryptography`` (an AEAD: a changed byte fails to decrypt
rather than reading as other text). Keys are versioned and come from the environment
(``CONCORD_FIELD_KEYS``, newest first), never from the database: a dump, a replica or
``psql`` sees only ``<key id>$<nonce and ciphertext>``. Values are written under the newest
key; any listed key reads, so reads keep working while ``rotate_field_keys`` re-encrypts.

The associated data names the column (``table.column``) or ``file``: a value copied from
one column into another does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

NONCE_BYTES = 12
KEY_BYTES = 32
SEPARATOR = "$"
# Files start with this, then the key id, a newline, the nonce and the ciphertext.
FILE_MAGIC = b"concord-aead-1\n"
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class DecryptionError(Exception):
    """A stored value that no configured key opens: a missing key or a changed value."""


@dataclass(frozen=True)
class FieldKey:
    key_id: str
    secret: bytes


def generate_key_spec(key_id: str) -> str:
    """``<id>:<32 random bytes, base64>``: one entry of ``CONCORD_FIELD_KEYS``."""
    if not KEY_ID.match(key_id):
        raise ValueError("A key id is 1-32 letters, digits, '-' or '_'.")
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


def parse_keys(spec: str) -> tuple[FieldKey, ...]:
    """``id:base64key,id:base64key`` (newest first) into keys, refusing anything weak."""
    keys: list[FieldKey] = []
    for entry in (part.strip() for part in spec.split(",")):
        if not entry:
            continue
        key_id, sep, encoded = entry.partition(":")
        if not sep or not KEY_ID.match(key_id):
            raise ImproperlyConfigured(
                "CONCORD_FIELD_KEYS is a comma-separated list of <id>:<base64 key>, newest "
                "first; an id is 1-32 letters, digits, '-' or '_'."
            )
        try:
            secret = base64.urlsafe_b64decode(encoded.encode())
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(f"CONCORD_FIELD_KEYS: key {key_id} is not base64.") from None
        if len(secret) != KEY_BYTES:
            raise ImproperlyConfigured(
                f"CONCORD_FIELD_KEYS: key {key_id} must be {KEY_BYTES} random bytes "
                "(generate one with `python -m core.keygen field <id>`)."
            )
        if any(key.key_id == key_id for key in keys):
            raise ImproperlyConfigured(f"CONCORD_FIELD_KEYS: key id {key_id} is listed twice.")
        keys.append(FieldKey(key_id, secret))
    if not keys:
        raise ImproperlyConfigured("CONCORD_FIELD_KEYS lists no key.")
    return tuple(keys)


class Keyring:
    def __init__(self, keys: tuple[FieldKey, ...]) -> None:
        self.newest = keys[0]
        self._ciphers = {key.key_id: AESGCM(key.secret) for key in keys}

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    def _cipher(self, key_id: str) -> AESGCM:
        try:
            return self._ciphers[key_id]
        except KeyError:
            raise DecryptionError(
                f"The value was encrypted under key {key_id!r}, which CONCORD_FIELD_KEYS "
                "does not list."
            ) from None

    # --- text columns ----------------------------------------------------------------

    def encrypt_text(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._cipher(self.newest.key_id).encrypt(
            nonce, plaintext.encode(), context.encode()
        )
        payload = base64.b64encode(nonce + sealed).decode()
        return f"{self.newest.key_id}{SEPARATOR}{payload}"

    def decrypt_text(self, stored: str, context: str) -> str:
        key_id, sep, payload = stored.partition(SEPARATOR)
        if not sep:
            raise DecryptionError(f"A value of {context} is not encrypted.")
        try:
            raw = base64.b64decode(payload.encode(), validate=True)
            return (
                self._cipher(key_id)
                .decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
                .decode()
            )
        except (binascii.Error, ValueError, InvalidTag):
            raise DecryptionError(
                f"A value of {context} does not decrypt: it was changed, or moved from "
                "another column."
            ) from None

    @staticmethod
    def key_of_text(stored: str) -> str:
        return stored.partition(SEPARATOR)[0]

    # --- files -----------------------------------------------------------------------

    def encrypt_bytes(self, plaintext: bytes, context: str = "file") -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._cipher(self.newest.key_id).encrypt(nonce, plaintext, context.encode())
        return FILE_MAGIC + self.newest.key_id.encode() + b"\n" + nonce + sealed

    def decrypt_bytes(self, stored: bytes, context: str = "file") -> bytes:
        key_id = self.key_of_bytes(stored)
        if key_id is None:
            raise DecryptionError("The file is not encrypted.")
        body = stored[len(FILE_MAGIC) + len(key_id) + 1 :]
        try:
            return self._cipher(key_id).decrypt(
                body[:NONCE_BYTES], body[NONCE_BYTES:], context.encode()
            )
        except InvalidTag:
            raise DecryptionError("The file does not decrypt: it was changed.") from None

    @staticmethod
    def key_of_bytes(stored: bytes) -> str | None:
        if not stored.startswith(FILE_MAGIC):
            return None
        key_id, sep, _rest = stored[len(FILE_MAGIC) :].partition(b"\n")
        return key_id.decode() if sep else None


@lru_cache(maxsize=1)
def keyring() -> Keyring:
    from django.conf import settings

    return Keyring(settings.CONCORD_FIELD_KEYS)


def _forget_keys(*, setting: str, **kwargs: object) -> None:
    if setting == "CONCORD_FIELD_KEYS":
        keyring.cache_clear()


setting_changed.connect(_forget_keys)
