"""Identity, locations, notes, document names and files, and intelligence sources are
encrypted at rest; both doors read them as before, before and after a key rotation, and a
rotation stopped half way carries on."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.exceptions import FieldError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from casework import consents
from casework import services as casework
from casework.models import CaseLocation, CaseNote, Document, VictimIdentity
from core import crypto
from core.crypto import Keyring
from intelligence import reports
from intelligence.models import IntelligenceReport
from intelligence.tests.conftest import REPORT_DEFAULTS

OLD = crypto.generate_key_spec("old")
NEW = crypto.generate_key_spec("new")
PNG = b"\x89PNG\r\n\x1a\n" + b"SCAN-OF-PASSPORT" + b"\x00" * 64

# What each door must read back, and must never be found in a column or file as written.
IDENTITY = {
    "given_name": "Ana",
    "family_name": "Novák",
    "aliases": ["Anka Nováková"],
    "date_of_birth": datetime.date(1990, 3, 3),
    "phone": "+447700900123",
    "email": "ana.novak@example.org",
}
ADDRESS = "Flat 2, 14 Quay Street, Northshire NE1 4XY"
NOTE = "Ana says her passport is held by the site manager at the car wash."
NEED_NOTE = "Ana needs her GP registration moved to Quay Street."
FLAG_NOTE = "Ana's former partner drives a grey van and watches the hostel."
CONSENT_REASON = "Ana agreed through the Czech interpreter on the phone."
SOURCE = REPORT_DEFAULTS["source_description"]
FULL_TEXT = REPORT_DEFAULTS["full_text"]


@pytest.fixture
def old_key(settings):
    settings.CONCORD_FIELD_KEYS = crypto.parse_keys(OLD)
    return settings


@pytest.fixture
def stored(old_key, caseworker, analyst, private_root):
    """One of everything encrypted, written under the old key."""
    case = casework.case_create(actor=caseworker, exploitation_types=["labour"])
    casework.identity_save(actor=caseworker, case=case, **IDENTITY)
    casework.location_set(
        actor=caseworker, case=case, accommodation_type="safe_house", address=ADDRESS
    )
    note = casework.note_add(actor=caseworker, case=case, body=NOTE, visibility="lead_agency")
    casework.note_edit(actor=caseworker, note=note, body=NOTE + " Update: returned.")
    document = casework.document_upload(
        actor=caseworker,
        case=case,
        uploaded_file=SimpleUploadedFile("Ana Novak passport.png", PNG, content_type="image/png"),
        kind="identity_document",
        purpose="support",
        description="Ana's passport, taken from the car wash office",
    )
    casework.need_add(actor=caseworker, case=case, category="healthcare", note=NEED_NOTE)
    casework.flag_raise(
        actor=caseworker, case=case, kind="do_not_disclose_location", note=FLAG_NOTE
    )
    consents.consent_record(
        actor=caseworker,
        case=case,
        scope="nrm_referral",
        method="verbal_interpreter",
        language="Czech",
        basis_reason=CONSENT_REASON,
    )
    report = reports.report_create(actor=analyst, **REPORT_DEFAULTS)
    return {"case": case, "note": note, "document": document, "report": report}


def _raw(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" <> \'\'')
        return [row[0] for row in cursor.fetchall()]


ENCRYPTED = [
    ("casework_victimidentity", "given_name", "Ana"),
    ("casework_victimidentity", "family_name", "Nov"),
    ("casework_victimidentity", "aliases", "Anka"),
    ("casework_victimidentity", "date_of_birth", "1990"),
    ("casework_victimidentity", "phone", "7700900123"),
    ("casework_victimidentity", "email", "ana.novak"),
    ("casework_caselocation", "address", "Quay Street"),
    ("casework_casenote", "body", "passport"),
    ("casework_casenoterevision", "body", "passport"),
    ("casework_document", "original_name", "passport"),
    ("casework_document", "description", "car wash office"),
    ("casework_need", "note", "GP registration"),
    ("casework_safeguardingflag", "note", "grey van"),
    ("casework_consent", "basis_reason", "interpreter"),
    ("intelligence_intelligencereport", "full_text", "SECRET-SOURCE-42"),
    ("intelligence_intelligencereport", "source_description", "SECRET-SOURCE-42"),
]


@pytest.mark.parametrize(("table", "column", "clear"), ENCRYPTED)
def test_columns_hold_only_ciphertext(stored, table, column, clear):
    values = _raw(table, column)
    assert values, f"{table}.{column} holds nothing to check"
    for value in values:
        assert clear not in value
        assert value.startswith("old$")


def test_the_file_on_disk_is_ciphertext_and_the_download_is_the_upload(stored, api, caseworker):
    document = stored["document"]
    on_disk = (document.file.storage.path(document.file.name), document.file.storage)
    raw = open(on_disk[0], "rb").read()  # noqa: SIM115
    assert b"SCAN-OF-PASSPORT" not in raw and raw.startswith(crypto.FILE_MAGIC)
    case = stored["case"]
    response = api(caseworker).get(f"/api/v1/cases/{case.pk}/documents/{document.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG


def test_an_encrypted_field_refuses_a_lookup_instead_of_matching_nothing(db):
    with pytest.raises(FieldError, match="is encrypted"):
        list(VictimIdentity.objects.filter(family_name="Novák"))
    with pytest.raises(FieldError, match="is encrypted"):
        list(CaseLocation.objects.filter(address__icontains="Quay"))
    assert CaseNote.objects.filter(body__isnull=False).count() == 0


def _read_both_doors(client_api, client_page, stored) -> None:
    case, document = stored["case"], stored["document"]
    identity = client_api.get(f"/api/v1/cases/{case.pk}/identity/").json()
    assert {key: identity[key] for key in ("given_name", "family_name", "phone", "email")} == {
        key: IDENTITY[key] for key in ("given_name", "family_name", "phone", "email")
    }
    assert identity["aliases"] == IDENTITY["aliases"]
    assert identity["date_of_birth"] == "1990-03-03"
    assert client_api.get(f"/api/v1/cases/{case.pk}/location/").json()["address"] == ADDRESS
    bodies = [
        n["body"] for n in client_api.get(f"/api/v1/cases/{case.pk}/notes/").json()["results"]
    ]
    assert bodies == [NOTE + " Update: returned."]
    names = [
        d["original_name"]
        for d in client_api.get(f"/api/v1/cases/{case.pk}/documents/").json()["results"]
    ]
    assert names == ["Ana_Novak_passport.png"]
    base = f"/api/v1/cases/{case.pk}"
    assert [n["note"] for n in client_api.get(f"{base}/needs/").json()["results"]] == [NEED_NOTE]
    assert [f["note"] for f in client_api.get(f"{base}/flags/").json()["results"]] == [FLAG_NOTE]
    consents = client_api.get(f"{base}/consents/").json()["results"]
    assert [c["basis_reason"] for c in consents] == [CONSENT_REASON]
    download = client_page.get(f"/cases/{case.pk}/documents/{document.pk}/download/")
    assert b"".join(download.streaming_content) == PNG

    page = client_page.get(f"/cases/{case.pk}/").content.decode()
    for shown in (
        "Novák",
        "Quay Street",
        "held by the site manager",
        "Ana_Novak_passport.png",
        "GP registration moved",
        "grey van",
    ):
        assert shown in page
    identity_page = client_page.get(f"/cases/{case.pk}/identity/").content.decode()
    assert "Anka Nováková" in identity_page and "ana.novak@example.org" in identity_page


def _read_report(client_api, client_page, report) -> None:
    body = client_api.get(f"/api/v1/intelligence/{report.pk}/").json()
    assert body["full_text"] == FULL_TEXT and body["source_description"] == SOURCE
    page = client_page.get(f"/intelligence/{report.pk}/").content.decode()
    assert "SECRET-SOURCE-42" in page


def test_both_doors_read_every_field_before_and_after_a_rotation(
    stored, settings, api, login, caseworker, analyst
):
    _read_both_doors(api(caseworker), login(caseworker), stored)
    _read_report(api(analyst), login(analyst), stored["report"])

    settings.CONCORD_FIELD_KEYS = crypto.parse_keys(f"{NEW},{OLD}")
    # Mid-rotation: the old key still reads, and the app now writes under the new one.
    _read_both_doors(api(caseworker), login(caseworker), stored)
    out = io.StringIO()
    call_command("rotate_field_keys", "--no-progress", "--batch-size", "2", stdout=out)
    assert "Done:" in out.getvalue()
    for table, column, _clear in ENCRYPTED:
        assert all(value.startswith("new$") for value in _raw(table, column)), column
    document = Document.objects.get()
    assert Keyring.key_of_bytes(document.file.storage.read_raw(document.file.name)) == "new"

    settings.CONCORD_FIELD_KEYS = crypto.parse_keys(NEW)  # the old key retired
    _read_both_doors(api(caseworker), login(caseworker), stored)
    _read_report(api(analyst), login(analyst), stored["report"])
    dry = io.StringIO()
    call_command("rotate_field_keys", "--dry-run", stdout=dry)
    assert "to re-encrypt" in dry.getvalue()
    assert all(line.endswith(": 0 to re-encrypt") for line in dry.getvalue().splitlines()[1:-1])


def test_a_rotation_stopped_half_way_carries_on_where_it_was(
    stored, settings, caseworker, monkeypatch
):
    for number in range(6):
        casework.note_add(
            actor=caseworker, case=stored["case"], body=f"note {number}", visibility="lead_agency"
        )
    settings.CONCORD_FIELD_KEYS = crypto.parse_keys(f"{NEW},{OLD}")
    real, calls = Keyring.encrypt_text, {"n": 0}

    def failing(self, plaintext, context):
        calls["n"] += 1
        if calls["n"] > 10:
            raise RuntimeError("the operator pressed Ctrl-C")
        return real(self, plaintext, context)

    monkeypatch.setattr(Keyring, "encrypt_text", failing)
    with pytest.raises(RuntimeError):
        call_command(
            "rotate_field_keys", "--no-progress", "--batch-size", "2", stdout=io.StringIO()
        )
    monkeypatch.setattr(Keyring, "encrypt_text", real)
    rotated = [v.startswith("new$") for t, c, _ in ENCRYPTED for v in _raw(t, c)]
    assert any(rotated) and not all(rotated)  # whole batches committed, the rest left

    call_command("rotate_field_keys", "--no-progress", stdout=io.StringIO())
    assert all(v.startswith("new$") for t, c, _ in ENCRYPTED for v in _raw(t, c))
    bodies = set(CaseNote.objects.values_list("body", flat=True))
    assert {f"note {n}" for n in range(6)} <= bodies


def test_reindex_recomputes_the_blind_indexes_under_a_new_key(stored, settings):
    from core import blind_index

    before = VictimIdentity.objects.get().match_exact
    assert before
    settings.CONCORD_BLIND_INDEX_KEY = blind_index.parse_key(blind_index.generate_key())
    call_command("rotate_field_keys", "--no-progress", "--reindex", stdout=io.StringIO())
    after = VictimIdentity.objects.get().match_exact
    assert after and after != before


def test_reports_are_read_back_by_the_orm(stored):
    report = IntelligenceReport.objects.get(pk=stored["report"].pk)
    assert (report.full_text, report.source_description) == (FULL_TEXT, SOURCE)
