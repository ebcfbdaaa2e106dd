"""A naive reference model of who may see a case, and which parts, written from the
domain's rules (DOMAIN.md, docs/access.md, the docstrings of casework/permissions.py and
of the services that move grants), in plain Python over a world's description: no ORM, no
access engine, no grant table. ``test_access_reference_model`` builds the same world
through the services and compares the engine's answers with ``holds``.

The world is a story: agencies, partnerships (in force, ended, not yet started, ending
soon), members and their roles, cases, referrals and their answers, consents to share
identity given and withdrawn, lead transfers, break-glass openings, time passing and
the hourly sweep of sharing that outlived its partnership. ``step`` says whether each
event is allowed and what it changes; ``holds`` says what a member holds on a case now.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable

# --- The rules --------------------------------------------------------------------------

CARE = frozenset({"caseworker", "case_manager"})
ANSWERING = CARE | {"officer", "prosecutor"}

# The permissions compared, and the roles that may ever hold each (casework/permissions.py's
# docstring and access.md: identity and location reach the police only through break-glass
# or an evidence request, never an analyst or a prosecutor; notes not prosecutors).
VIEW_CASE = "casework.view_case"
VIEW_IDENTITY = "casework.view_case_identity"
VIEW_LOCATION = "casework.view_case_location"
VIEW_NEEDS = "casework.view_case_needs"
VIEW_NOTES = "casework.view_case_notes"
VIEW_DOCUMENTS = "casework.view_case_documents"
CHANGE_CASE = "casework.change_case"
REVIEW_BREAK_GLASS = "casework.review_break_glass"

ROLES_THAT_MAY: dict[str, frozenset[str]] = {
    VIEW_CASE: CARE | {"officer", "prosecutor", "analyst"},
    VIEW_IDENTITY: CARE | {"officer"},
    VIEW_LOCATION: CARE | {"officer"},
    VIEW_NEEDS: CARE,
    VIEW_NOTES: CARE | {"officer"},
    VIEW_DOCUMENTS: CARE | {"officer", "prosecutor"},
    CHANGE_CASE: CARE,
    REVIEW_BREAK_GLASS: frozenset({"case_manager", "agency_admin", "partnership_manager"}),
}
CHECKED = tuple(ROLES_THAT_MAY)

# What each relationship to a case gives an agency (or, for break-glass, one person).
LEAD = frozenset(CHECKED)  # the lead agency holds everything on its cases
FORMER_LEAD = frozenset({VIEW_CASE, VIEW_NEEDS, VIEW_NOTES})  # read-only history, no location
TRANSFER_PROPOSED_TO = frozenset({VIEW_CASE})  # the summary, to decide
REFERRAL_ACCEPTED = frozenset({VIEW_CASE, VIEW_NEEDS})  # never documents or notes
ACCOMMODATION_EXTRA = frozenset({VIEW_LOCATION})
REFERRAL_COMPLETED = frozenset({VIEW_CASE})  # the summary, while partners
BREAK_GLASS = frozenset({VIEW_CASE, VIEW_IDENTITY, VIEW_LOCATION})  # 60 minutes
BREAK_GLASS_POWER = frozenset({"officer", "case_manager"})
BREAK_GLASS_MINUTES = 60
BREAK_GLASS_PER_DAY = 3


def in_force(p: Partnership, today: datetime.date) -> bool:
    return p.starts_on <= today and (p.ends_on is None or p.ends_on >= today)


def partners(w: World, a: int, b: int) -> bool:
    """Do ``a`` and ``b`` share a partnership whose agreement is in force today?"""
    today = w.now.astimezone(w.tz).date()
    return a == b or any(in_force(p, today) and {a, b} <= p.agencies for p in w.partnerships)


def holds(w: World, user: int, case: int) -> frozenset[str]:
    """What ``user`` holds on ``case`` now: what their agency's relationships to the case
    give it, and what they were given themselves, narrowed to what their role may ever
    hold. An inactive member holds nothing."""
    u, c = w.users[user], w.cases[case]
    if not u.active:
        return frozenset()
    a = u.agency
    got: set[str] = set()
    if c.lead == a:
        got |= LEAD
    if a in c.former_leads:
        got |= FORMER_LEAD
    if c.transfer_to == a:
        got |= TRANSFER_PROPOSED_TO
    for r in w.referrals:
        if r.case != case or r.to != a:
            continue
        if r.status == "accepted":
            got |= REFERRAL_ACCEPTED
            if r.kind == "accommodation":
                got |= ACCOMMODATION_EXTRA
            if r.consent is not None and not w.consents[r.consent].withdrawn:
                got.add(VIEW_IDENTITY)  # only with the person's consent naming the agency
        elif r.status == "completed" and r.summary_kept:
            got |= REFERRAL_COMPLETED
    for g in w.break_glass:
        if (
            g.user == user
            and g.case == case
            and w.now < g.opened_at + _minutes(BREAK_GLASS_MINUTES)
        ):
            got |= BREAK_GLASS
    return frozenset(p for p in got if u.role in ROLES_THAT_MAY[p])


# --- The world --------------------------------------------------------------------------


@dataclasses.dataclass
class Partnership:
    agencies: set[int]
    starts_on: datetime.date
    ends_on: datetime.date | None


@dataclasses.dataclass
class Member:
    agency: int
    role: str
    active: bool = True


@dataclasses.dataclass
class Case:
    lead: int
    former_leads: set[int] = dataclasses.field(default_factory=set)
    transfer_to: int | None = None


@dataclasses.dataclass
class Consent:
    case: int
    agency: int
    withdrawn: bool = False


@dataclasses.dataclass
class Referral:
    case: int
    sender: int
    to: int
    kind: str
    consent: int | None  # the consent to share identity it carries
    status: str = "sent"
    summary_kept: bool = False


@dataclasses.dataclass
class BreakGlass:
    user: int
    case: int
    opened_at: datetime.datetime


@dataclasses.dataclass
class World:
    now: datetime.datetime
    kinds: list[str]
    partnerships: list[Partnership]
    users: list[Member]
    cases: list[Case] = dataclasses.field(default_factory=list)
    consents: list[Consent] = dataclasses.field(default_factory=list)
    referrals: list[Referral] = dataclasses.field(default_factory=list)
    break_glass: list[BreakGlass] = dataclasses.field(default_factory=list)
    tz: datetime.tzinfo = datetime.UTC  # whose calendar says what "today" is

    def first_member(self, agency: int, roles: Iterable[str]) -> int | None:
        """Who acts for ``agency`` in a role among ``roles``: its first active such member."""
        roles = set(roles)
        for i, u in enumerate(self.users):
            if u.agency == agency and u.active and u.role in roles:
                return i
        return None


def _minutes(n: int) -> datetime.timedelta:
    return datetime.timedelta(minutes=n)


# --- Events: is each allowed, and what it changes ----------------------------------------


def refer(w: World, actor: int, case: int, to: int, kind: str, share_identity: bool) -> bool:
    """Only the lead agency's care roles refer; only to an active agency sharing a
    partnership in force with the lead; identity only with a live consent naming it."""
    u, c = w.users[actor], w.cases[case]
    consent = _live_consent(w, case, to)
    ok = (
        u.active
        and u.role in CARE
        and u.agency == c.lead
        and to != c.lead
        and partners(w, to, c.lead)
        and (not share_identity or consent is not None)
    )
    if ok:
        w.referrals.append(Referral(case, c.lead, to, kind, consent if share_identity else None))
    return ok


def _live_consent(w: World, case: int, agency: int) -> int | None:
    """The latest consent naming ``agency`` on ``case`` not withdrawn."""
    live = [
        i
        for i, k in enumerate(w.consents)
        if (k.case, k.agency, k.withdrawn) == (case, agency, False)
    ]
    return live[-1] if live else None


def _linked_to_sender_and_lead(w: World, r: Referral) -> bool:
    return partners(w, r.to, r.sender) and partners(w, r.to, w.cases[r.case].lead)


def answer(w: World, referral: int, action: str) -> bool:
    r = w.referrals[referral]
    if action == "accept":
        ok = (
            r.status == "sent"
            and _linked_to_sender_and_lead(w, r)
            and (r.consent is None or not w.consents[r.consent].withdrawn)
        )
        if ok:
            r.status = "accepted"
    elif action in ("decline", "withdraw"):
        ok = r.status == "sent"
        if ok:
            r.status = {"decline": "declined", "withdraw": "withdrawn"}[action]
    else:  # complete: read-only summary, only while still partners
        ok = r.status == "accepted"
        if ok:
            r.status = "completed"
            r.summary_kept = _linked_to_sender_and_lead(w, r)
    return ok


def consent_give(w: World, case: int, agency: int) -> None:
    w.consents.append(Consent(case, agency))


def consent_withdraw(w: World, consent: int) -> bool:
    k = w.consents[consent]
    ok = not k.withdrawn
    k.withdrawn = True
    return ok


def transfer_propose(w: World, case: int, to: int) -> bool:
    c = w.cases[case]
    ok = c.transfer_to is None and to != c.lead and partners(w, c.lead, to)
    if ok:
        c.transfer_to = to
    return ok


def transfer_answer(w: World, case: int, action: str) -> bool:
    c = w.cases[case]
    if c.transfer_to is None:
        return False
    if action == "accept":
        if not partners(w, c.lead, c.transfer_to):
            return False
        c.former_leads.add(c.lead)
        c.lead = c.transfer_to
    c.transfer_to = None
    return True


def break_glass(w: World, actor: int, case: int) -> bool:
    """Officers and case managers, of the lead agency or of an agency sharing a
    partnership in force with it; not again while their opening of this case is open; at
    most BREAK_GLASS_PER_DAY in 24 hours. (Every agency of these worlds keeps an active
    agency admin, so someone can always review.)"""
    u, c = w.users[actor], w.cases[case]
    mine = [g for g in w.break_glass if g.user == actor]
    ok = (
        u.active
        and u.role in BREAK_GLASS_POWER
        and partners(w, u.agency, c.lead)
        and not any(
            g.case == case and w.now < g.opened_at + _minutes(BREAK_GLASS_MINUTES) for g in mine
        )
        and sum(w.now - g.opened_at < datetime.timedelta(hours=24) for g in mine)
        < BREAK_GLASS_PER_DAY
    )
    if ok:
        w.break_glass.append(BreakGlass(actor, case, w.now))
    return ok


def sweep(w: World) -> None:
    """The hourly sweep: sharing by referral, and proposed transfers, between agencies no
    longer partners end (scoping itself does not ask about partnerships)."""
    for r in w.referrals:
        if not _linked_to_sender_and_lead(w, r):
            if r.status == "accepted":
                r.status = "ended"
            r.summary_kept = False
    for c in w.cases:
        if c.transfer_to is not None and not partners(w, c.transfer_to, c.lead):
            c.transfer_to = None
