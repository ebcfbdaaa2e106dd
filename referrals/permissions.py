"""Capabilities of the referrals app. Referrals are scoped by agency (to or from it),
NRM records by the case they belong to."""

from agencies.models import Role

CARE = frozenset({Role.CASEWORKER, Role.CASE_MANAGER})

CAPABILITIES: dict[str, frozenset[str]] = {
    "referrals.add_referral": CARE,
    "referrals.view_referral": CARE | {Role.OFFICER, Role.PROSECUTOR},
    "referrals.answer_referral": CARE | {Role.OFFICER, Role.PROSECUTOR},
    "referrals.add_nrmreferral": CARE | {Role.OFFICER},
    "referrals.view_nrmreferral": CARE | {Role.OFFICER},
    "referrals.change_nrmreferral": CARE | {Role.OFFICER},
    "referrals.add_dutytonotify": CARE | {Role.OFFICER},
}
