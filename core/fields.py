"""Model fields stored encrypted (see ``core.crypto``).

Each is its plain counterpart to Python, forms, serializers and templates, and a ``text``
column of ``<key id>$<ciphertext>`` to the database. An empty value is stored empty (that a
field is blank is not secret, and blank fields cost nothing). A ciphertext compares equal
to nothing, so these fields have no lookups but ``isnull`` and equality with an empty
value: any other filter on them raises
instead of silently matching nothing. Search and duplicate checks use blind indexes
(``core.blind_index``) instead.
"""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING, Any

from django.contrib.postgres.fields import ArrayField
from django.core import validators
from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact

from .crypto import keyring

if TYPE_CHECKING:
    from django import forms

ALLOWED_LOOKUPS = frozenset({"isnull", "exact"})


class EmptyOnlyExact(Exact):
    """``field=None`` and ``field=""`` (stored as such); any other value is refused."""

    def get_prep_lookup(self) -> Any:
        if self.rhs not in (None, "", []):
            raise FieldError(
                f"{self.lhs.output_field.encryption_context} is encrypted: it can be compared "
                "with an empty value only."
            )
        return super().get_prep_lookup()


# A mixin of model fields: type-checked as the field it is mixed into.
if TYPE_CHECKING:
    _FieldBase = models.Field[Any, Any]
else:
    _FieldBase = object


class EncryptedMixin(_FieldBase):
    """Encrypts on the way to the database and decrypts on the way back."""

    encrypted = True

    def db_type(self, connection: Any) -> str:
        return "text"

    def cast_db_type(self, connection: Any) -> str:
        return "text"

    @property
    def encryption_context(self) -> str:
        return f"{self.model._meta.db_table}.{self.column}"

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in ALLOWED_LOOKUPS:
            raise FieldError(
                f"{self.encryption_context} is encrypted: it cannot be compared in SQL "
                f"(lookup {lookup_name!r})."
            )
        if lookup_name == "exact":
            return EmptyOnlyExact
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(f"{self.encryption_context} is encrypted: no {lookup_name!r} in SQL.")

    # Subclasses turn the Python value into text and back.
    def to_text(self, value: Any) -> str:
        raise NotImplementedError

    def from_text(self, text: str) -> Any:
        raise NotImplementedError

    def empty_value(self) -> Any:
        return ""

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None:
            return None
        text = self.to_text(value)
        if text == "":
            return ""
        return keyring().encrypt_text(text, self.encryption_context)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return None if value is None else self.empty_value()
        return self.from_text(keyring().decrypt_text(value, self.encryption_context))


class EncryptedTextField(EncryptedMixin, models.TextField):
    """Text, encrypted. ``max_length`` is enforced by validation (forms, serializers,
    ``full_clean``), as for ``CharField``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(validators.MaxLengthValidator(self.max_length))

    def to_text(self, value: Any) -> str:
        return str(value)

    def from_text(self, text: str) -> str:
        return text


class EncryptedEmailField(EncryptedTextField):
    default_validators = [validators.validate_email]

    def formfield(
        self,
        form_class: type[forms.Field] | None = None,
        choices_form_class: type[forms.ChoiceField] | None = None,
        **kwargs: Any,
    ) -> forms.Field | None:
        from django import forms

        return super().formfield(
            form_class=form_class or forms.EmailField,
            choices_form_class=choices_form_class,
            **kwargs,
        )


class EncryptedDateField(EncryptedMixin, models.DateField):
    """A date, encrypted (ISO 8601 inside). ``null=True`` stores a missing date as NULL."""

    def to_text(self, value: Any) -> str:
        return value.isoformat() if isinstance(value, datetime.date) else str(value)

    def from_text(self, text: str) -> datetime.date:
        return datetime.date.fromisoformat(text)

    def empty_value(self) -> Any:
        return None

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None:
            return None
        return keyring().encrypt_text(self.to_text(value), self.encryption_context)


class EncryptedArrayField(EncryptedMixin, ArrayField):
    """A list of strings, encrypted as one JSON array. Forms and serializers see the
    ``ArrayField`` it extends; an empty list is stored as ``[]`` encrypted."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # ArrayField points from_db_value at its base field's when that has one.
        self.__dict__.pop("from_db_value", None)

    def to_text(self, value: Any) -> str:
        return json.dumps(list(value), ensure_ascii=False)

    def from_text(self, text: str) -> list[Any]:
        return json.loads(text)

    def empty_value(self) -> list[Any]:
        return []

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None:
            return None
        if not value:
            return ""
        return keyring().encrypt_text(self.to_text(value), self.encryption_context)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return EncryptedMixin.from_db_value(self, value, expression, connection)


def encrypted_fields(model: type[models.Model]) -> list[models.Field]:
    return [field for field in model._meta.concrete_fields if getattr(field, "encrypted", False)]
