"""Referrals between agencies: who a lead agency refers to, the answers, and the grants an
answer brings (as ``referrals.services`` writes them), with their audit."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from agencies.audit_actions import AgencyAction
from casework.models import ConsentScope
from referrals.audit_actions import ReferralAction
from referrals.models import ReferralKind, ReferralStatus, Urgency, respond_by_for

from . import vocab
from .cases import CaseDrawing
from .drawing import DAY, AgencyPlan, CaseDraft, Picker, Rows, how_many

# The last agency (with four or more) leads nothing and accepts one referral in this many
# cases: at the default size its users see about ten cases.
TINY_ONE_IN = 10_000
# Kinds of referral that may carry the person's identity (with a consent naming the agency).
SHARING_KINDS = frozenset(
    {
        ReferralKind.ACCOMMODATION,
        ReferralKind.CASEWORK_SUPPORT,
        ReferralKind.HEALTH,
        ReferralKind.LEGAL_ADVICE,
    }
)
ANSWERED = frozenset({ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED, ReferralStatus.DECLINED})
# (outcome, cumulative chance) for referrals older than two days.
OPEN_CASE_REFERRALS = (
    (ReferralStatus.ACCEPTED, 0.45),
    (ReferralStatus.COMPLETED, 0.65),
    (ReferralStatus.DECLINED, 0.79),
    (ReferralStatus.WITHDRAWN, 0.85),
    (ReferralStatus.EXPIRED, 0.90),
    (ReferralStatus.SENT, 1.0),
)
CLOSED_CASE_REFERRALS = (
    (ReferralStatus.COMPLETED, 0.45),
    (ReferralStatus.DECLINED, 0.65),
    (ReferralStatus.WITHDRAWN, 0.80),
    (ReferralStatus.EXPIRED, 0.90),
    (ReferralStatus.ACCEPTED, 1.0),
)


class ReferralDrawing(CaseDrawing):
    """A referral that carries the person's identity records the consent naming its
    receiving agency (``CaseDrawing._consent``)."""

    def _receivers(self) -> Callable[[AgencyPlan, str], Picker | None]:
        """Who a lead agency refers a kind of referral to: partners first, then anyone."""
        cache: dict[tuple[int, str], Picker | None] = {}

        def weight(plan: AgencyPlan, kind: str) -> float:
            return vocab.REFERRAL_RECEIVERS[kind].get(plan.kind, 0.0) * plan.receive_weight

        def receivers(lead: AgencyPlan, kind: str) -> Picker | None:
            key = (lead.number, kind)
            if key not in cache:
                others = [a for a in self.agencies if a is not lead and not a.tiny]
                partners = [a for a in others if set(a.partnerships) & set(lead.partnerships)]
                found = None
                for pool in (partners, others):
                    picker = Picker(pool, [weight(a, kind) for a in pool])
                    if picker:
                        found = picker
                        break
                if found is None and kind not in vocab.STRICT_REFERRAL_KINDS and others:
                    found = Picker(others, [a.receive_weight for a in others])
                cache[key] = found
            return cache[key]

        return receivers

    def _respond_by(self, sent_at: datetime.datetime, urgency: str) -> datetime.datetime:
        """The application's own deadline rule, remembered per day (it walks a calendar)."""
        if urgency == Urgency.EMERGENCY:
            return respond_by_for(urgency, sent_at, "GB")
        key = (sent_at.date(), urgency)
        if key not in self.respond_by_offsets:
            noon = sent_at.replace(hour=12, minute=0, second=0)
            self.respond_by_offsets[key] = respond_by_for(urgency, noon, "GB") - noon
        return sent_at + self.respond_by_offsets[key]

    def _referrals(self, case: CaseDraft, rows: Rows) -> list[AgencyPlan]:
        """Referrals from the lead agency, their answers, and the grants the answers bring.
        Returns the agencies that accepted one."""
        rng, anchor, lead = self.rng, self.anchor, case.lead
        accepted_to: list[AgencyPlan] = []
        audit, grants = rows[self.t_audit], rows[self.t_grant]
        count = how_many(rng, self.sizes.referrals_per_case)
        to_tiny = self.tiny is not None and case.number % self.tiny_every == self.tiny_every // 2
        for k in range(count + to_tiny):
            forced = to_tiny and k == count
            if forced:
                kind, to = ReferralKind.OTHER, self.tiny
            else:
                kind = self.pick["referral_kind"](rng)
                picker = self.receivers(lead, kind)
                if picker is None:
                    continue
                to = picker(rng)
            assert to is not None
            referral_id = self.pools["referral"].take()
            urgency = self.pick["urgency"](rng)
            sent_at = self._between(
                case.opened, min(case.end, case.opened + datetime.timedelta(days=60))
            )
            due = self._respond_by(sent_at, urgency)
            state = ReferralStatus.ACCEPTED if forced else self._referral_state(case, sent_at)
            if state == ReferralStatus.EXPIRED and due + datetime.timedelta(days=14) > anchor:
                state = ReferralStatus.SENT
            answered = state in ANSWERED
            answerer = rng.choice(to.answerers) if answered else None
            answered_at = (
                self._between(sent_at, min(anchor, sent_at + datetime.timedelta(days=5)))
                if answered
                else None
            )
            closed = None
            if state == ReferralStatus.COMPLETED:
                assert answered_at is not None
                closed = self._between(answered_at, max(case.end, answered_at))
            elif state == ReferralStatus.WITHDRAWN:
                closed = self._between(sent_at, min(anchor, sent_at + datetime.timedelta(days=3)))
            elif state == ReferralStatus.EXPIRED:
                closed = due + datetime.timedelta(days=14)
            share = kind in SHARING_KINDS and rng.random() < 0.35
            basis = (
                self._consent(
                    case,
                    rows,
                    ConsentScope.SHARE_IDENTITY,
                    self._between(case.opened, sent_at),
                    agency_id=to.id,
                    withdrawable=False,
                )
                if share
                else None
            )
            told = due + datetime.timedelta(hours=1)
            rows[self.t_referral].append(
                (
                    referral_id,
                    case.id,
                    lead.id,
                    to.id,
                    kind,
                    urgency,
                    vocab.REFERRAL_REASONS[kind],
                    share,
                    basis,
                    state,
                    case.worker,
                    sent_at,
                    due,
                    answerer,
                    answered_at,
                    rng.choice(vocab.DECLINE_REASONS) if state == ReferralStatus.DECLINED else "",
                    closed,
                    told if state == ReferralStatus.SENT and told < anchor else None,
                )
            )
            self._audit(
                audit,
                sent_at,
                case.worker,
                ReferralAction.SENT,
                "referrals.referral",
                referral_id,
                case.id,
                {"to_agency_id": to.id, "kind": kind, "urgency": urgency, "share_identity": share},
            )
            if state in (ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED):
                assert answered_at is not None
                accepted_to.append(to)
                perm_ids = self.referral_perm_ids[kind]
                if state == ReferralStatus.ACCEPTED:
                    grants.extend(
                        (
                            to.group_id,
                            pid,
                            case.id,
                            self.ct_referral,
                            referral_id,
                            None,
                            answered_at,
                            answerer,
                        )
                        for pid in perm_ids
                    )
                    if basis is not None:
                        grants.append(
                            (
                                to.group_id,
                                self.identity_perm_id,
                                case.id,
                                self.ct_consent,
                                basis,
                                None,
                                answered_at,
                                answerer,
                            )
                        )
                else:  # completed: the receiving agency keeps sight of the summary only
                    grants.append(
                        (
                            to.group_id,
                            self.view_case_id,
                            case.id,
                            self.ct_referral,
                            referral_id,
                            None,
                            closed,
                            answerer,
                        )
                    )
                self._audit(
                    audit,
                    answered_at,
                    answerer,
                    AgencyAction.GRANT_CREATED,
                    "casework.case",
                    case.id,
                    case.id,
                    {
                        "permissions": self.referral_perms[kind],
                        "agency_id": to.id,
                        "user_id": None,
                        "expires_at": None,
                        "created": len(perm_ids),
                        "reason_type": "referrals.referral",
                        "reason_id": referral_id,
                    },
                )
                self._audit(
                    audit,
                    answered_at,
                    answerer,
                    ReferralAction.ACCEPTED,
                    "referrals.referral",
                    referral_id,
                    case.id,
                    {"permissions": self.referral_perms[kind]},
                )
                if state == ReferralStatus.COMPLETED:
                    self._audit(
                        audit,
                        closed,
                        answerer,
                        ReferralAction.COMPLETED,
                        "referrals.referral",
                        referral_id,
                        case.id,
                        {},
                    )
            elif state == ReferralStatus.DECLINED:
                self._audit(
                    audit,
                    answered_at,
                    answerer,
                    ReferralAction.DECLINED,
                    "referrals.referral",
                    referral_id,
                    case.id,
                    {},
                )
            elif state == ReferralStatus.WITHDRAWN:
                self._audit(
                    audit,
                    closed,
                    case.worker,
                    ReferralAction.WITHDRAWN,
                    "referrals.referral",
                    referral_id,
                    case.id,
                    {},
                )
            elif state == ReferralStatus.EXPIRED:
                self._audit(
                    audit,
                    closed,
                    None,
                    ReferralAction.EXPIRED,
                    "referrals.referral",
                    referral_id,
                    case.id,
                    {},
                )
        return accepted_to

    def _referral_state(self, case: CaseDraft, sent_at: datetime.datetime) -> str:
        roll = self.rng.random()
        if (self.anchor - sent_at).total_seconds() < 2 * DAY:
            return ReferralStatus.SENT if roll < 0.7 else ReferralStatus.ACCEPTED
        outcomes = CLOSED_CASE_REFERRALS if case.closed_at else OPEN_CASE_REFERRALS
        for state, upto in outcomes:
            if roll < upto:
                return state
        return outcomes[-1][0]
