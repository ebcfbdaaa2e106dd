"""Capabilities of the referrals app. Referrals are scoped by agency (to or from it),
NRM records by the case they belong to."""

from agencies.models import Role

ADD_REFERRAL = "referrals.add_referral"
VIEW_REFERRAL = "referrals.view_referral"
ANSWER_REFERRAL = "referrals.answer_referral"
ADD_NRM = "referrals.add_nrmreferral"
VIEW_NRM = "referrals.view_nrmreferral"
CHANGE_NRM = "referrals.change_nrmreferral"
ADD_DUTY_TO_NOTIFY = "referrals.add_dutytonotify"

CARE = frozenset({Role.CASEWORKER, Role.CASE_MANAGER})

CAPABILITIES: dict[str, frozenset[str]] = {
    ADD_REFERRAL: CARE,
    VIEW_REFERRAL: CARE | {Role.OFFICER, Role.PROSECUTOR},
    ANSWER_REFERRAL: CARE | {Role.OFFICER, Role.PROSECUTOR},
    ADD_NRM: CARE | {Role.OFFICER},
    VIEW_NRM: CARE | {Role.OFFICER},
    CHANGE_NRM: CARE | {Role.OFFICER},
    ADD_DUTY_TO_NOTIFY: CARE | {Role.OFFICER},
}
