"""Passwords as NIST SP 800-63B asks: at least 12 characters, not a common password and
not the account's own details, and no composition rules."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from agencies.models import User


@pytest.mark.parametrize(
    "password",
    [
        "482917365028",  # digits only: long enough, and no rule asks for another kind
        "correct horse battery",  # a passphrase
        "concord-demo-2026",  # the demo's password still passes
    ],
)
def test_long_uncommon_passwords_are_accepted_whatever_they_are_made_of(password):
    validate_password(password, User(username="alice", email="alice@example.org"))


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Shorter1!xy", "This password is too short"),  # 11 characters, "complex"
        ("password1234", "This password is too common"),
        ("alice.example.org", "too similar"),
    ],
)
def test_short_common_or_personal_passwords_are_refused(password, why):
    with pytest.raises(ValidationError, match=why):
        validate_password(password, User(username="alice", email="alice@example.org"))
