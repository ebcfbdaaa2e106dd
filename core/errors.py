"""Errors every domain app raises the same way."""

from django.core.exceptions import ValidationError


class IllegalTransition(ValidationError):
    """A state change the record's current state does not allow: 409 in the API, a
    message in the browser."""
