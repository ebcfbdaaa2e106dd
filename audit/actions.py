"""Names of audited actions, so that producers and readers of the trail agree."""

LOGIN = "auth.login"
LOGOUT = "auth.logout"
LOGIN_FAILED = "auth.login_failed"
TOKEN_CREATED = "auth.token_created"
TOKEN_REVOKED = "auth.token_revoked"
SIGN_INS_ENDED = "auth.sign_ins_ended"  # every session and API token of a user ended
PASSWORD_CHANGED = "auth.password_changed"
PASSWORD_RESET_REQUESTED = "auth.password_reset_requested"
PASSWORD_RESET_COMPLETED = "auth.password_reset_completed"
ACCESS_DENIED = "access.denied"  # a record exists but the user may not see it (answered 404)
FORBIDDEN = "access.forbidden"  # the user may see but not do (answered 403)
GRANT_CREATED = "grant.created"
GRANT_REVOKED = "grant.revoked"
AGENCY_CREATED = "agency.created"
MEMBERSHIP_CREATED = "membership.created"
MEMBERSHIP_ROLE_CHANGED = "membership.role_changed"
MEMBERSHIP_DEACTIVATED = "membership.deactivated"
MEMBERSHIP_REACTIVATED = "membership.reactivated"
