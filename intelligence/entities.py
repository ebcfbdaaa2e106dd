"""Normalising the entities a report names, so two agencies' spellings of one thing match.

Each kind has one normal form (``normalise(kind, value)``):

- ``phone``: E.164 (``+447911123456``), read with ``phonenumbers``; a national number is
  read in the region given (the originating agency's country; GB by default). A number
  that is not a valid number of its country is refused with the value in the message.
- ``vehicle``: the registration in capitals without spaces or hyphens (``AB12CDE``).
- ``postcode``: a full UK postcode in capitals with one space (``NE1 4XF``), checked
  against the shape of UK postcodes (letters and digits in the right places, not that the
  postcode exists). Outside GB (``region``), capitals with single spaces.
- ``email``: the whole address in lower case, checked as an email address.
- ``address`` and ``business``: Unicode-normalised (NFKC), case-folded, with commas, full
  stops and semicolons read as spaces and runs of white space collapsed
  (``"1 High St., Leeds"`` → ``"1 high st leeds"``).
- ``person``: a person of interest is written ``"Name, YYYY-MM-DD"``: the name, a comma,
  and the date of birth in ISO form (the last comma separates them, so a name may itself
  contain commas). A name alone matches far too widely, so the date of birth is required.
  Normal form: ``"<case-folded name with single spaces>|YYYY-MM-DD"``.

Errors are ``ValidationError``s naming the value and the expected form, for the person
who typed it; they are never logged or put in the audit trail.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import EntityKind

DEFAULT_REGION = "GB"
MAX_LENGTH = 300

# Outward code (area letters, district digit, optional digit or letter), inward code
# (sector digit, unit letters). The loose, well-known shape; existence is not checked.
_UK_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$")
_UK_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_VEHICLE = re.compile(r"^[A-Z0-9]{2,10}$")
_OTHER_POSTCODE = re.compile(r"^[A-Z0-9][A-Z0-9 -]{1,9}$")
_SEPARATORS = re.compile(r"[,.;]")


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _folded(text: str) -> str:
    return _collapse(unicodedata.normalize("NFKC", text).casefold())


def normalise_phone(value: str, region: str = DEFAULT_REGION) -> str:
    try:
        number = phonenumbers.parse(value, region or DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _(
                "“%(value)s” is not a valid phone number. Write it with its country code, "
                "e.g. +44 7911 123456, or as dialled in %(region)s."
            )
            % {"value": value, "region": region or DEFAULT_REGION}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_vehicle(value: str, region: str = DEFAULT_REGION) -> str:
    plate = re.sub(r"[\s-]", "", value).upper()
    if not _VEHICLE.match(plate):
        raise ValidationError(
            _(
                "“%(value)s” is not a vehicle registration: use 2 to 10 letters and digits, "
                "e.g. AB12 CDE."
            )
            % {"value": value}
        )
    return plate


def normalise_postcode(value: str, region: str = DEFAULT_REGION) -> str:
    text = _collapse(value).upper()
    if (region or DEFAULT_REGION) == "GB":
        found = _UK_POSTCODE.match(text)
        if found is None:
            raise ValidationError(
                _("“%(value)s” is not a full UK postcode, e.g. NE1 4XF.") % {"value": value}
            )
        return f"{found.group(1)} {found.group(2)}"
    if not _OTHER_POSTCODE.match(text):
        raise ValidationError(_("“%(value)s” is not a postcode.") % {"value": value})
    return text


def normalise_email(value: str, region: str = DEFAULT_REGION) -> str:
    address = value.strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError(
            _("“%(value)s” is not an email address.") % {"value": value}
        ) from None
    return address


def normalise_text(value: str, region: str = DEFAULT_REGION) -> str:
    text = _folded(_SEPARATORS.sub(" ", value))
    if not text:
        raise ValidationError(_("Write the name or address, not only punctuation."))
    return text


def normalise_person(value: str, region: str = DEFAULT_REGION) -> str:
    name, comma, born = value.rpartition(",")
    name = _folded(name)
    try:
        date_of_birth = datetime.date.fromisoformat(born.strip()) if comma else None
    except ValueError:
        date_of_birth = None
    if not name or date_of_birth is None:
        raise ValidationError(
            _(
                "“%(value)s” is not a person of interest: write the name, a comma and the date "
                "of birth, e.g. “Jan Kowalski, 1984-03-09”."
            )
            % {"value": value}
        )
    if date_of_birth > timezone.localdate() or date_of_birth.year < 1900:
        raise ValidationError(
            _("“%(value)s”: the date of birth must be between 1900 and today.") % {"value": value}
        )
    return f"{name}|{date_of_birth.isoformat()}"


# One well-formed value per kind: for error messages and form placeholders.
EXAMPLES: dict[str, str] = {
    EntityKind.PHONE: "+44 7911 123456",
    EntityKind.VEHICLE: "AB12 CDE",
    EntityKind.POSTCODE: "NE1 4XF",
    EntityKind.ADDRESS: "1 High Street, Leeds",
    EntityKind.BUSINESS: "Sparkle Car Wash Ltd",
    EntityKind.EMAIL: "name@example.org",
    EntityKind.PERSON: "Jan Kowalski, 1984-03-09",
}

NORMALISERS: dict[str, Callable[[str, str], str]] = {
    EntityKind.PHONE: normalise_phone,
    EntityKind.VEHICLE: normalise_vehicle,
    EntityKind.POSTCODE: normalise_postcode,
    EntityKind.EMAIL: normalise_email,
    EntityKind.ADDRESS: normalise_text,
    EntityKind.BUSINESS: normalise_text,
    EntityKind.PERSON: normalise_person,
}


def normalise(kind: str, value: object, *, region: str = DEFAULT_REGION) -> str:
    """The normal form of ``value`` as an entity of ``kind``, or a ValidationError."""
    if kind not in NORMALISERS:
        raise ValidationError(
            _("“%(kind)s” is not a kind of entity; use one of: %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(EntityKind.values)}
        )
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            _("Write the %(kind)s as text, e.g. “%(example)s”.")
            % {"kind": EntityKind(kind).label.lower(), "example": EXAMPLES[kind]}
        )
    if len(value) > MAX_LENGTH:
        raise ValidationError(
            _("An entity is at most %(max)d characters long.") % {"max": MAX_LENGTH}
        )
    return NORMALISERS[kind](value.strip(), region)


def is_postcode_district(value: str) -> bool:
    """Does ``value`` look like a UK postcode district (outward code, e.g. NE1, SW1A)?"""
    return bool(_UK_DISTRICT.match(value.strip().upper()))
