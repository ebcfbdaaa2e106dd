"""Keyed blind indexes of a person's identity: equal for the same person written two ways,
useless without the key (cross-agency duplicate check).

Values are normalised before hashing — transliterated to ASCII (``anyascii``: Cyrillic,
Greek, diacritics), case-folded, reduced to letters — and the family name is also reduced
to phonetic codes (``jellyfish``: Metaphone, Soundex, NYSIIS), each combined with the birth
date. HMAC-SHA-256 under ``CONCORD_BLIND_INDEX_KEY``, separate from the encryption keys: the
database holds only tokens, and a token computed without the key matches nothing.

An index needs a given name, a family name and a birth date: a family name alone (or a
name without a date) would match strangers.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

import jellyfish
from anyascii import anyascii
from django.core.exceptions import ImproperlyConfigured

KEY_BYTES = 32
_NOT_LETTER = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")
_PHONETIC = (
    ("metaphone", jellyfish.metaphone),
    ("soundex", jellyfish.soundex),
    ("nysiis", jellyfish.nysiis),
)


def generate_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def parse_key(encoded: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(encoded.strip().encode())
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured("CONCORD_BLIND_INDEX_KEY is not base64.") from None
    if len(key) < KEY_BYTES:
        raise ImproperlyConfigured(
            f"CONCORD_BLIND_INDEX_KEY must be at least {KEY_BYTES} random bytes "
            "(generate one with `python -m core.keygen blind-index`)."
        )
    return key


def normalise(value: str) -> str:
    """'  ANA-Maria Novák ' and 'Ана Мария Новак' both become 'ana maria novak'."""
    folded = anyascii(value or "").casefold().replace("-", " ").replace("'", "")
    return _SPACES.sub(" ", _NOT_LETTER.sub(" ", folded)).strip()


@dataclass(frozen=True)
class Tokens:
    exact: str
    likely: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.exact)


NO_TOKENS = Tokens("", ())


def tokens(
    key: bytes, *, given_name: str, family_name: str, date_of_birth: datetime.date | None
) -> Tokens:
    """The exact token (both names in either order, and the birth date) and the likely
    tokens (a phonetic code of the family name and the birth date)."""
    given, family = normalise(given_name), normalise(family_name)
    if not (given and family and date_of_birth):
        return NO_TOKENS
    born = date_of_birth.isoformat()

    def mac(*parts: str) -> str:
        return hmac.new(key, "|".join(parts).encode(), hashlib.sha256).hexdigest()

    exact = mac("exact", *sorted((given, family)), born)
    # W and V are one sound in most of Central and Eastern Europe, and spellings swap them
    # (Nowak, Novák): the phonetic codes see both as V.
    squashed = family.replace(" ", "").replace("w", "v")
    likely = tuple(mac("likely", name, code(squashed), born) for name, code in _PHONETIC)
    return Tokens(exact, likely)
