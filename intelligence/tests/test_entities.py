"""Entities: one normal form per kind, clear errors, replaced as a whole on a report."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from agencies.models import User
from intelligence import reports
from intelligence.entities import normalise


@pytest.mark.parametrize(
    "written",
    ["07911 123456", "+44 7911 123456", "0044 7911 123456", "(07911) 123-456", "+447911123456"],
)
def test_phone_spellings_share_one_e164_form(written: str) -> None:
    assert normalise("phone", written) == "+447911123456"


def test_a_national_number_is_read_in_the_agencys_country() -> None:
    assert normalise("phone", "01 234 5678", region="SI") == "+38612345678"
    assert normalise("phone", "+386 1 234 5678") == "+38612345678"


@pytest.mark.parametrize("written", ["12345", "call me", "+44 7911", "07700 900000000"])
def test_an_invalid_phone_number_is_refused_by_name(written: str) -> None:
    with pytest.raises(ValidationError) as error:
        normalise("phone", written)
    assert f"“{written}” is not a valid phone number" in error.value.messages[0]


@pytest.mark.parametrize(
    ("kind", "written", "normal"),
    [
        ("vehicle", "ab12 cde", "AB12CDE"),
        ("vehicle", "AB-12-CDE", "AB12CDE"),
        ("postcode", "ne1 4xf", "NE1 4XF"),
        ("postcode", "NE14XF", "NE1 4XF"),
        ("postcode", "sw1a  1aa", "SW1A 1AA"),
        ("email", " Boss@Example.ORG ", "boss@example.org"),
        ("address", "1  High St., Leeds", "1 high st leeds"),
        ("address", "1 HIGH ST LEEDS", "1 high st leeds"),
        ("business", "Sparkle   Car Wash Ltd.", "sparkle car wash ltd"),
        ("business", "STRASSE Straße", "strasse strasse"),
        ("person", "Jan  KOWALSKI, 1984-03-09", "jan kowalski|1984-03-09"),
        ("person", "Kowalski, Jan, 1984-03-09", "kowalski, jan|1984-03-09"),
    ],
)
def test_normal_forms(kind: str, written: str, normal: str) -> None:
    assert normalise(kind, written) == normal


@pytest.mark.parametrize(
    ("kind", "written", "says"),
    [
        ("vehicle", "AB!2", "is not a vehicle registration"),
        ("postcode", "NE1", "is not a full UK postcode"),
        ("postcode", "12345", "is not a full UK postcode"),
        ("email", "boss at example", "is not an email address"),
        ("address", ",.;", "not only punctuation"),
        ("person", "Jan Kowalski", "write the name, a comma and the date of birth"),
        ("person", "Jan Kowalski, 09/03/1984", "write the name, a comma and the date of birth"),
        ("person", ", 1984-03-09", "write the name, a comma and the date of birth"),
        ("person", "Jan Kowalski, 1850-01-01", "between 1900 and today"),
        ("weapon", "AK-47", "is not a kind of entity"),
    ],
)
def test_bad_entities_are_refused_clearly(kind: str, written: str, says: str) -> None:
    with pytest.raises(ValidationError) as error:
        normalise(kind, written)
    assert says in error.value.messages[0]


def test_a_person_born_in_the_future_is_refused() -> None:
    later = datetime.date.today() + datetime.timedelta(days=2)
    with pytest.raises(ValidationError, match="between 1900 and today"):
        normalise("person", f"Baby, {later.isoformat()}")


def test_values_must_be_text() -> None:
    with pytest.raises(ValidationError, match="Write the phone number as text"):
        normalise("phone", {"number": "07911 123456"})
    with pytest.raises(ValidationError, match="Jan Kowalski, 1984-03-09"):
        normalise("person", {"name": "Jan Kowalski", "date_of_birth": "1984-03-09"})
    with pytest.raises(ValidationError, match="at most 300"):
        normalise("address", "x" * 301)


def test_postcodes_outside_gb_are_kept_loosely() -> None:
    assert normalise("postcode", " 1000 ", region="SI") == "1000"
    assert normalise("postcode", "d02  x285", region="IE") == "D02 X285"
    with pytest.raises(ValidationError, match="is not a postcode"):
        normalise("postcode", "#1000", region="SI")


def test_entities_set_normalises_dedupes_and_replaces(make_report: Any, analyst: User) -> None:
    report = make_report(analyst, submit=False)
    reports.entities_set(
        actor=analyst,
        report=report,
        entities=[
            {"kind": "phone", "value": "07911 123456"},
            {"kind": "phone", "value": "+44 7911 123456"},
            {"kind": "vehicle", "value": "ab12 cde"},
        ],
    )
    assert list(report.entities.values_list("kind", "value", "normalised")) == [
        ("phone", "07911 123456", "+447911123456"),
        ("vehicle", "ab12 cde", "AB12CDE"),
    ]
    reports.entities_set(
        actor=analyst, report=report, entities=[{"kind": "email", "value": "X@Example.org"}]
    )
    assert list(report.entities.values_list("normalised", flat=True)) == ["x@example.org"]


def test_entity_errors_name_the_entry(make_report: Any, analyst: User) -> None:
    report = make_report(analyst, submit=False)
    with pytest.raises(ValidationError) as error:
        reports.entities_set(
            actor=analyst,
            report=report,
            entities=[
                {"kind": "phone", "value": "07911 123456"},
                {"kind": "phone", "value": "12345"},
                {"kind": "vehicle"},
            ],
        )
    problems = error.value.message_dict["entities"]
    assert problems[0].startswith("Entity 2: “12345” is not a valid phone number")
    assert problems[1].startswith("Entity 3: write it as")
    assert not report.entities.exists()  # nothing half-written


def test_every_kind_has_a_normaliser_and_a_valid_example() -> None:
    from intelligence.entities import EXAMPLES
    from intelligence.models import EntityKind

    for kind in EntityKind.values:
        assert normalise(kind, EXAMPLES[kind])
