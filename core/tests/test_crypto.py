"""The cipher and the blind indexes on their own (no database)."""

from __future__ import annotations

import base64
import datetime

import pytest

from core import blind_index, crypto
from core.crypto import DecryptionError, Keyring

OLD_SPEC = crypto.generate_key_spec("old")
OLD = crypto.parse_keys(OLD_SPEC)
BOTH = crypto.parse_keys(crypto.generate_key_spec("new") + "," + OLD_SPEC)


def test_text_round_trips_and_never_repeats():
    ring = Keyring(OLD)
    first, second = (ring.encrypt_text("Ana Novák", "t.c") for _ in range(2))
    assert first != second  # a fresh nonce each time: equal names do not look equal
    assert first.startswith("old$") and "Ana" not in first
    assert ring.decrypt_text(first, "t.c") == "Ana Novák"


def test_a_value_moved_to_another_column_or_changed_does_not_decrypt():
    ring = Keyring(OLD)
    sealed = ring.encrypt_text("12 Harbour Road", "casework_caselocation.address")
    with pytest.raises(DecryptionError, match="changed, or moved"):
        ring.decrypt_text(sealed, "casework_victimidentity.given_name")
    key_id, _sep, payload = sealed.partition("$")
    raw = bytearray(base64.b64decode(payload))
    raw[-1] ^= 1  # one bit of the tag
    flipped = f"{key_id}${base64.b64encode(bytes(raw)).decode()}"
    with pytest.raises(DecryptionError):
        ring.decrypt_text(flipped, "casework_caselocation.address")
    with pytest.raises(DecryptionError, match="not encrypted"):
        ring.decrypt_text("12 Harbour Road", "casework_caselocation.address")


def test_the_newest_key_writes_and_every_listed_key_reads():
    written_before = Keyring(OLD).encrypt_text("x", "c")
    ring = Keyring(BOTH)
    assert ring.decrypt_text(written_before, "c") == "x"
    assert ring.encrypt_text("x", "c").startswith("new$")
    with pytest.raises(DecryptionError, match="does not list"):
        Keyring(crypto.parse_keys(crypto.generate_key_spec("other"))).decrypt_text(
            written_before, "c"
        )


def test_files_round_trip_and_name_their_key():
    ring = Keyring(BOTH)
    sealed = ring.encrypt_bytes(b"%PDF-1.7 statement")
    assert b"statement" not in sealed
    assert ring.key_of_bytes(sealed) == "new"
    assert ring.decrypt_bytes(sealed) == b"%PDF-1.7 statement"
    assert ring.key_of_bytes(b"%PDF-1.7 plain") is None
    with pytest.raises(DecryptionError):
        ring.decrypt_bytes(sealed[:-1] + bytes([sealed[-1] ^ 1]))


KEY = blind_index.parse_key(blind_index.generate_key())
BORN = datetime.date(1990, 3, 3)


def _tokens(given: str, family: str, born: datetime.date | None = BORN) -> blind_index.Tokens:
    return blind_index.tokens(KEY, given_name=given, family_name=family, date_of_birth=born)


def test_the_same_person_written_differently_meets_exactly():
    reference = _tokens("Ana", "Novák")
    assert _tokens("ANA", " novak ").exact == reference.exact
    assert _tokens("Novák", "Ana").exact == reference.exact  # names the other way round
    assert _tokens("Ана", "Новак").exact == reference.exact  # Cyrillic, transliterated
    assert _tokens("Ana", "Novák", datetime.date(1990, 3, 4)).exact != reference.exact


def test_a_misspelt_family_name_meets_likely_not_exactly():
    reference = _tokens("Ana", "Novák")
    for misspelt in (_tokens("Ana", "Novack"), _tokens("Anna", "Nowak")):
        assert misspelt.exact != reference.exact
        assert set(misspelt.likely) & set(reference.likely)
    stranger = _tokens("Ana", "Santos")
    assert not set(stranger.likely) & set(reference.likely)


def test_half_an_identity_gives_no_index():
    assert not _tokens("", "Novák")
    assert not _tokens("Ana", "")
    assert not _tokens("Ana", "Novák", None)
    assert not _tokens("--", "Novák")  # nothing left of the given name once normalised


def test_tokens_depend_on_the_key():
    other = blind_index.parse_key(blind_index.generate_key())
    theirs = blind_index.tokens(other, given_name="Ana", family_name="Novák", date_of_birth=BORN)
    assert theirs.exact != _tokens("Ana", "Novák").exact


def test_keygen_prints_keys_that_settings_accept(capsys):
    from core import keygen

    assert keygen.main(["field", "2027a"]) == 0
    (spec,) = crypto.parse_keys(capsys.readouterr().out.strip())
    assert spec.key_id == "2027a" and len(spec.secret) == crypto.KEY_BYTES
    assert keygen.main(["blind-index"]) == 0
    assert len(blind_index.parse_key(capsys.readouterr().out)) == blind_index.KEY_BYTES
    assert keygen.main(["field", "bad id!"]) == 2
    assert keygen.main([]) == 2
