"""The audit actions of referrals between agencies and of NRM referrals (see
``audit.audit_actions`` for the convention)."""

from __future__ import annotations

import enum


@enum.unique
class ReferralAction(enum.StrEnum):
    SENT = "referral.sent"
    ACCEPTED = "referral.accepted"
    DECLINED = "referral.declined"
    COMPLETED = "referral.completed"
    WITHDRAWN = "referral.withdrawn"
    OVERDUE = "referral.overdue"
    EXPIRED = "referral.expired"
    ENDED = "referral.ended"
    NRM_REFERRED = "nrm.referred"
    NRM_UPDATED = "nrm.updated"
    NRM_WITHDRAWN = "nrm.withdrawn"
    NRM_DECLINED = "nrm.declined"
    NRM_RECONSIDERATION_REQUESTED = "nrm.reconsideration_requested"
    NRM_RECONSIDERATION_DECIDED = "nrm.reconsideration_decided"
    NRM_DUTY_TO_NOTIFY = "nrm.duty_to_notify"
