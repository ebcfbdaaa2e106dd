"""The audit actions of signing in and of being turned away, whichever app writes them.

Every app that writes the audit trail names its actions in one enum, in its own
``audit_actions.py``: ``record(CaseAction.NOTES_VIEWED, ...)``, never a string. A member's
value is what the trail stores, so a value never changes once rows carry it; its name is
the value in capitals, the dot an underscore, without a prefix the enum's name says.
This one holds the ``auth.*`` and ``access.*`` events: the audit app writes some of them
itself (its signals, middleware and API error handler) and every app refuses access.
"""

from __future__ import annotations

import enum


@enum.unique
class AuthAction(enum.StrEnum):
    LOGIN = "auth.login"
    LOGOUT = "auth.logout"
    LOGIN_FAILED = "auth.login_failed"
    TOKEN_CREATED = "auth.token_created"
    TOKEN_REVOKED = "auth.token_revoked"
    SECOND_FACTOR_PASSED = "auth.second_factor_passed"
    SECOND_FACTOR_FAILED = "auth.second_factor_failed"
    RECOVERY_CODE_USED = "auth.recovery_code_used"
    DEVICE_ENROLLED = "auth.device_enrolled"
    DEVICE_REMOVED = "auth.device_removed"
    DEVICES_RESET = "auth.devices_reset"
    SIGN_INS_ENDED = "auth.sign_ins_ended"  # every session and API token of a user ended
    PASSWORD_CHANGED = "auth.password_changed"
    PASSWORD_RESET_REQUESTED = "auth.password_reset_requested"
    PASSWORD_RESET_COMPLETED = "auth.password_reset_completed"
    ACCESS_DENIED = "access.denied"  # a record exists but the user may not see it (answered 404)
    ACCESS_FORBIDDEN = "access.forbidden"  # the user may see but not do (answered 403)
