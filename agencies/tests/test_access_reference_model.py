"""The access engine against a naive reference model, over random worlds.

Hypothesis draws small worlds (2-4 agencies, partnerships in and out of force, members
and their roles, 1-3 cases) and a story of events (referrals sent and answered, consents
to share identity given and withdrawn, lead transfers, break-glass, role changes and
deactivations, time passing, the hourly sweep). The world is built through the services
the views call, so every grant comes from a real code path; the same story is told to
``access_reference_model``, plain Python written from the domain's rules. Each event must
be allowed or refused alike, and at the end, for every member and case,
``Case.objects.visible_to`` (two permissions), its count, ``access.perms_for`` (eight),
``access.can`` or ``user.has_perm`` (by turns) must give what the model says.

With ``CI=true`` it runs 1,000 examples, derandomized (the same ones every run);
otherwise ``CONCORD_REFERENCE_EXAMPLES`` (100 by default). On a mismatch Hypothesis
shrinks the world and prints it with the story and every disagreement.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import os
import zoneinfo
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from agencies import access
from agencies import services as agency_services
from agencies.auth import user_for_request
from agencies.models import Agency, Membership, Partnership, User
from casework import consents, services, transfers
from casework.evidence.break_glass import break_glass_open
from casework.models import Case, ConsentMethod, ConsentScope, LeadTransfer, TransferStatus
from referrals import services as referral_services
from referrals.models import Referral

from . import access_reference_model as model

pytestmark = pytest.mark.django_db

EXAMPLES = (
    1000
    if os.environ.get("CI") == "true"
    else int(os.environ.get("CONCORD_REFERENCE_EXAMPLES", "100"))
)
START = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)  # a Monday, GMT
REFUSED = (PermissionDenied, ValidationError, Http404)  # IllegalTransition is a ValidationError

# Hypothesis draws the first of a list most often (it is the simplest), so the roles that
# do most come first.
KIND_ROLES: dict[str, tuple[str, ...]] = {
    "police": ("officer", "analyst", "partnership_manager"),
    "charity": ("case_manager", "caseworker", "partnership_manager"),
    "social_services": ("caseworker", "case_manager", "agency_admin"),
    "prosecution": ("prosecutor", "partnership_manager"),
}
PARTNERSHIP_DATES: dict[str, tuple[int, int | None]] = {  # (starts, ends) in days from today
    "in_force": (-30, None),
    "ended": (-60, -1),
    "not_started": (1, None),
    "ends_today": (-30, 0),
    "ends_tomorrow": (-30, 1),
}


# --- Worlds -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Spec:
    kinds: tuple[str, ...]  # agency i's kind; each also has an agency admin, user i
    members: tuple[tuple[int, str], ...]  # (agency, role), users len(kinds)...
    partnerships: tuple[tuple[frozenset[int], str], ...]
    case_openers: tuple[int, ...]  # index into members (a care role)
    story: tuple[tuple[Any, ...], ...]


N = st.integers(0, 11)  # an index, taken modulo what exists when the event happens
REFER = st.tuples(
    st.just("refer"),
    st.one_of(st.none(), N),  # None: a care member of the lead; else anyone
    N,
    N,
    st.sampled_from(["accommodation", "casework_support"]),
    st.booleans(),
    st.sampled_from(["accept", None, "decline"]),  # answered at once by the receiver
)
ANSWER = st.tuples(
    st.just("answer"), N, st.sampled_from(["accept", "accept", "decline", "complete", "withdraw"])
)
# Then, often, time passes: within the opening's hour, or past it.
BREAK_GLASS = st.tuples(st.just("break_glass"), N, N, st.sampled_from([61, None, 30]))
# Referrals, their answers and break-glass are drawn more often than the rest: they are
# what most often depends on everything else.
EVENTS = st.one_of(
    REFER,
    REFER,
    ANSWER,
    ANSWER,
    ANSWER,
    BREAK_GLASS,
    BREAK_GLASS,
    st.tuples(st.just("consent"), N, N),
    st.tuples(st.just("withdraw_consent"), N),
    st.tuples(st.just("propose_transfer"), N, N),
    st.tuples(st.just("answer_transfer"), N, st.sampled_from(["accept", "decline", "withdraw"])),
    st.tuples(st.just("change_role"), N, N),
    st.tuples(st.just("toggle_active"), N),
    st.tuples(st.just("time_passes"), st.sampled_from([30, 61, 24 * 60 + 1, 2 * 24 * 60])),
    st.tuples(st.just("sweep")),
)
# Most partnerships are in force: an ended one refuses almost everything.
STATES = st.sampled_from(["in_force", "in_force", "in_force", *sorted(PARTNERSHIP_DATES)])


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    n = draw(st.integers(2, 4))
    kinds = ("charity", *(draw(st.sampled_from(list(KIND_ROLES))) for _ in range(n - 1)))
    members: list[tuple[int, str]] = []
    for agency, kind in enumerate(kinds):
        roles = draw(st.lists(st.sampled_from(KIND_ROLES[kind]), max_size=3))
        if agency == 0 and not model.CARE & set(roles):
            roles.append(draw(st.sampled_from(sorted(model.CARE))))
        members += [(agency, role) for role in roles]
    partnerships = draw(
        st.lists(
            st.tuples(
                st.frozensets(st.integers(0, n - 1), min_size=2),
                STATES,
            ),
            min_size=1,
            max_size=2,
        )
    )
    care = [i for i, (_agency, role) in enumerate(members) if role in model.CARE]
    openers = draw(st.lists(st.sampled_from(care), min_size=1, max_size=3))
    story = draw(st.lists(EVENTS, max_size=12))
    return Spec(kinds, tuple(members), tuple(partnerships), tuple(openers), tuple(story))


@dataclasses.dataclass
class Built:
    """The database's side of the world: row i of each list is the model's i."""

    root: User
    agencies: list[Agency]
    users: list[User]
    memberships: list[Membership]
    cases: list[Case] = dataclasses.field(default_factory=list)
    consents: list[Any] = dataclasses.field(default_factory=list)
    referrals: list[Referral] = dataclasses.field(default_factory=list)


def local_today(now: datetime.datetime) -> datetime.date:
    return now.astimezone(zoneinfo.ZoneInfo(django_settings.TIME_ZONE)).date()


def build(spec: Spec, now: datetime.datetime) -> tuple[model.World, Built]:
    """Agencies, members and partnerships in bulk (they carry no grants); cases through
    ``case_create``."""
    today = local_today(now)
    n = len(spec.kinds)
    groups = Group.objects.bulk_create([Group(name=f"agency:ref{i}") for i in range(n)])
    agencies = Agency.objects.bulk_create(
        [
            Agency(name=f"Agency {i}", kind=kind, country="GB", is_first_responder=True, group=g)
            for i, (kind, g) in enumerate(zip(spec.kinds, groups, strict=True))
        ]
    )
    people = [(i, "agency_admin") for i in range(n)] + list(spec.members)
    root = User.objects.create(username="root", is_superuser=True, is_staff=True)
    users = User.objects.bulk_create([User(username=f"m{i}") for i in range(len(people))])
    memberships = Membership.objects.bulk_create(
        [
            Membership(user=u, agency=agencies[a], role=role)
            for u, (a, role) in zip(users, people, strict=True)
        ]
    )
    partnerships = Partnership.objects.bulk_create(
        [
            Partnership(
                name=f"Partnership {i}",
                starts_on=today + datetime.timedelta(days=PARTNERSHIP_DATES[state][0]),
                ends_on=None
                if (ends_in := PARTNERSHIP_DATES[state][1]) is None
                else today + datetime.timedelta(days=ends_in),
            )
            for i, (_members, state) in enumerate(spec.partnerships)
        ]
    )
    Partnership.agencies.through.objects.bulk_create(
        [
            Partnership.agencies.through(partnership=p, agency=agencies[a])
            for p, (members, _state) in zip(partnerships, spec.partnerships, strict=True)
            for a in sorted(members)
        ]
    )
    world = model.World(
        now=now,
        kinds=list(spec.kinds),
        partnerships=[
            model.Partnership(set(members), p.starts_on, p.ends_on)
            for p, (members, _state) in zip(partnerships, spec.partnerships, strict=True)
        ],
        users=[model.Member(a, role) for a, role in people],
        tz=zoneinfo.ZoneInfo(django_settings.TIME_ZONE),
    )
    built = Built(root=root, agencies=agencies, users=users, memberships=memberships)
    for opener in spec.case_openers:
        user = n + opener
        built.cases.append(services.case_create(actor=loaded(built, user)))
        world.cases.append(model.Case(lead=world.users[user].agency))
    return world, built


def loaded(built: Built, user: int) -> User:
    """User ``user`` as the next request loads it (``user_for_request``, both doors)."""
    found = user_for_request(built.users[user].pk)
    assert found is not None
    return found


# --- The story, told to both -------------------------------------------------------------


def other_agency(w: model.World, agency: int, k: int) -> int:
    """The agency ``k`` steps after ``agency`` (Hypothesis draws small numbers most: an
    index of its own would name the lead agency, agency 0, most of the time); ``k`` one
    less than a multiple of the number of agencies names ``agency`` itself."""
    return (agency + 1 + k) % len(w.kinds)


def attempt(action: Callable[[], Any]) -> bool:
    """Run a service; False when it refuses (403, 404, 400, 409), its writes undone."""
    try:
        with transaction.atomic():
            action()
    except REFUSED:
        return False
    return True


def tell(event: tuple[Any, ...], w: model.World, db: Built, clock: Clock) -> str:
    """Happen ``event`` in the database and in the model; a line for the story, with the
    two outcomes. Returns "" when the event has no one to do it (skipped by both)."""
    kind, *args = event
    cases = len(w.cases)
    agencies = len(w.kinds)
    n_members = len(w.users) - agencies  # the agency admins are never moved
    if kind == "refer":
        actor, c, to, referral_kind, share, then = args
        c = c % cases
        to = other_agency(w, w.cases[c].lead, to)
        if actor is None:
            actor = w.first_member(w.cases[c].lead, model.CARE)
            if actor is None:
                return ""
        else:
            actor %= len(w.users)
        done = attempt(
            lambda: db.referrals.append(
                referral_services.referral_send(
                    actor=loaded(db, actor),
                    case=db.cases[c],
                    to_agency=db.agencies[to],
                    kind=referral_kind,
                    reason="Needs a safe place",
                    share_identity=share,
                )
            )
        )
        expected = model.refer(w, actor, c, to, referral_kind, share)
        what = f"user {actor} refers case {c} to agency {to} ({referral_kind}, identity={share})"
        if done and expected and then is not None:
            answered = tell(("answer", len(w.referrals) - 1, then), w, db, clock)
            what = f"{what}: engine did, model allows\n  {answered or 'nobody answers'}\n  (so far)"
    elif kind == "answer":
        if not w.referrals:
            return ""
        r, action = args[0] % len(w.referrals), args[1]
        ref = w.referrals[r]
        if action == "withdraw":
            actor = w.first_member(ref.sender, model.CARE)
        else:
            actor = w.first_member(ref.to, model.ANSWERING)
        if actor is None:
            return ""
        referral_answers: dict[str, Callable[..., Any]] = {
            "accept": referral_services.referral_accept,
            "complete": referral_services.referral_complete,
            "withdraw": referral_services.referral_withdraw,
            "decline": lambda **kw: referral_services.referral_decline(**kw, reason="Full"),
        }
        service = referral_answers[action]
        done = attempt(lambda: service(actor=loaded(db, actor), referral=db.referrals[r]))
        expected = model.answer(w, r, action)
        what = f"user {actor} {action}s referral {r}"
    elif kind == "consent":
        c = args[0] % cases
        a = other_agency(w, w.cases[c].lead, args[1])
        actor = w.first_member(w.cases[c].lead, model.CARE)
        if actor is None:
            return ""
        done = attempt(
            lambda: db.consents.append(
                consents.consent_record(
                    actor=loaded(db, actor),
                    case=db.cases[c],
                    scope=ConsentScope.SHARE_IDENTITY,
                    method=ConsentMethod.WRITTEN,
                    agency=db.agencies[a],
                )
            )
        )
        if done:
            model.consent_give(w, c, a)
        expected = True
        what = f"user {actor} records consent to share case {c}'s identity with agency {a}"
    elif kind == "withdraw_consent":
        if not w.consents:
            return ""
        k = args[0] % len(w.consents)
        actor = w.first_member(w.cases[w.consents[k].case].lead, model.CARE)
        if actor is None:
            return ""
        done = attempt(
            lambda: consents.consent_withdraw(
                actor=loaded(db, actor), consent=fresh_consent(db.consents[k])
            )
        )
        expected = model.consent_withdraw(w, k)
        what = f"user {actor} withdraws consent {k}"
    elif kind == "propose_transfer":
        c = args[0] % cases
        to = other_agency(w, w.cases[c].lead, args[1])
        actor = w.first_member(w.cases[c].lead, model.CARE)
        if actor is None:
            return ""
        done = attempt(
            lambda: transfers.transfer_propose(
                actor=loaded(db, actor),
                case=Case.objects.get(pk=db.cases[c].pk),
                to_agency=db.agencies[to],
                reason="They are better placed",
            )
        )
        expected = model.transfer_propose(w, c, to)
        what = f"user {actor} proposes agency {to} lead case {c}"
    elif kind == "answer_transfer":
        c, action = args[0] % cases, args[1]
        pending = w.cases[c].transfer_to
        if pending is None:
            return ""
        if action == "withdraw":
            actor = w.first_member(w.cases[c].lead, model.CARE)
        else:
            actor = w.first_member(pending, {"case_manager"})
        if actor is None:
            return ""
        transfer = LeadTransfer.objects.select_related("case", "from_agency", "to_agency").get(
            case=db.cases[c], status=TransferStatus.PROPOSED
        )
        transfer_answers: dict[str, Callable[..., Any]] = {
            "accept": transfers.transfer_accept,
            "decline": transfers.transfer_decline,
            "withdraw": transfers.transfer_withdraw,
        }
        answer = transfer_answers[action]
        done = attempt(lambda: answer(actor=loaded(db, actor), transfer=transfer))
        expected = model.transfer_answer(w, c, action)
        what = f"user {actor} {action}s the transfer of case {c} to agency {pending}"
    elif kind == "break_glass":
        if not n_members:
            return ""
        actor, c = agencies + args[0] % n_members, args[1] % cases
        done = attempt(
            lambda: break_glass_open(
                actor=loaded(db, actor),
                case=Case.objects.select_related("lead_agency").get(pk=db.cases[c].pk),
                grounds="threat_to_life",
                reason=f"Threat to life, opening {len(w.break_glass)} at {clock.now}",
            )
        )
        expected = model.break_glass(w, actor, c)
        what = f"user {actor} breaks the glass on case {c}"
        if done and expected and args[2] is not None:
            passed = tell(("time_passes", args[2]), w, db, clock)
            what = f"{what}: engine did, model allows\n  {passed}\n  (so far)"
    elif kind == "change_role":
        if not n_members:
            return ""
        user = agencies + args[0] % n_members
        roles = KIND_ROLES[w.kinds[w.users[user].agency]]
        role = roles[args[1] % len(roles)]
        done = attempt(
            lambda: agency_services.membership_change_role(
                actor=db.root,
                membership=Membership.objects.select_related("user", "agency").get(
                    pk=db.memberships[user].pk
                ),
                role=role,
            )
        )
        w.users[user].role = role
        expected = True
        what = f"user {user} becomes {role}"
    elif kind == "toggle_active":
        if not n_members:
            return ""
        user = agencies + args[0] % n_members
        u = w.users[user]
        service = (
            agency_services.membership_deactivate
            if u.active
            else agency_services.membership_reactivate
        )
        done = attempt(
            lambda: service(
                actor=db.root,
                membership=Membership.objects.select_related("user", "agency").get(
                    pk=db.memberships[user].pk
                ),
            )
        )
        u.active = not u.active
        expected = True
        what = f"user {user} {'reactivated' if u.active else 'deactivated'}"
    elif kind == "time_passes":
        clock.now += datetime.timedelta(minutes=args[0])
        w.now = clock.now
        return f"{args[0]} minutes pass"
    else:
        referral_services.sharing_end_outside_partnerships()
        transfers.transfers_end_outside_partnerships()
        model.sweep(w)
        return "the hourly sweep runs"
    verdicts = ("did" if done else "refused", "allows" if expected else "refuses")
    line = f"{what}: engine {verdicts[0]}, model {verdicts[1]}"
    OUTCOMES[f"{kind}: {'done' if done else 'refused'}"] += 1
    if done != expected:
        raise Disagreement(line)
    return line


# How often each event was done and refused, over a run (printed at the end: ``-s``).
OUTCOMES: collections.Counter[str] = collections.Counter()


def fresh_consent(consent: Any) -> Any:
    return type(consent).objects.select_related("case").get(pk=consent.pk)


class Disagreement(AssertionError):
    pass


@dataclasses.dataclass
class Clock:
    now: datetime.datetime


# --- What each member holds --------------------------------------------------------------

LISTED = (model.VIEW_CASE, model.VIEW_IDENTITY)


def disagreements(w: model.World, db: Built) -> list[str]:
    found: list[str] = []
    checked = set(model.CHECKED)
    for i, m in enumerate(w.users):
        user = loaded(db, i)
        who = f"user {i} ({m.role} of agency {m.agency}, {'active' if m.active else 'inactive'})"
        want = {c: model.holds(w, i, c) for c in range(len(w.cases))}
        for perm in LISTED:
            got = set(Case.objects.visible_to(user, perm).values_list("pk", flat=True))
            expected = {db.cases[c].pk for c, held in want.items() if perm in held}
            if got != expected:
                found.append(f"{who}: visible_to({perm}) {sorted(got)}, model {sorted(expected)}")
        count = Case.objects.visible_to(user, model.VIEW_CASE).count()
        expected_count = sum(model.VIEW_CASE in held for held in want.values())
        if count != expected_count:
            found.append(f"{who}: the case list counts {count}, model {expected_count}")
        for c, case in enumerate(db.cases):
            got_perms = access.perms_for(user, case) & checked
            if got_perms != want[c]:
                found.append(
                    f"{who} on case {c}: perms_for {sorted(got_perms)}, model {sorted(want[c])}"
                )
            # One more single check, by turns through both doors' functions and every perm.
            perm = model.CHECKED[(i + c) % len(model.CHECKED)]
            checks: list[tuple[str, Callable[..., bool]]] = [
                ("can", access.can),
                ("has_perm", User.has_perm),
            ]
            name, check = checks[(i + c) % 2]
            answer = check(user, perm, case)
            if answer != (perm in want[c]):
                found.append(f"{who} on case {c}: {name}({perm}) {answer}")
    return found


def describe(w: model.World) -> str:
    lines = [f"agency {i}: {kind}" for i, kind in enumerate(w.kinds)]
    lines += [
        f"partnership {i}: agencies {sorted(p.agencies)}, {p.starts_on} to {p.ends_on or '-'}"
        for i, p in enumerate(w.partnerships)
    ]
    lines += [f"user {i}: {u.role} of agency {u.agency}" for i, u in enumerate(w.users)]
    return "\n".join(lines)


# --- The test ----------------------------------------------------------------------------


def test_the_engine_agrees_with_the_reference_model() -> None:
    ran = 0

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        print_blob=False,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.data_too_large,
        ],
    )
    @given(spec=specs())
    def check(spec: Spec) -> None:
        nonlocal ran
        ran += 1
        clock = Clock(START)
        with mock.patch("django.utils.timezone.now", lambda: clock.now), transaction.atomic():
            try:
                w, db = build(spec, clock.now)
                note(describe(w))
                story = []
                try:
                    for event in spec.story:
                        line = tell(event, w, db, clock)
                        if line:
                            story.append(line)
                except Disagreement as refused:
                    raise AssertionError(
                        "The engine and the model disagree on an event.\n"
                        + describe(w)
                        + "\nStory:\n  "
                        + "\n  ".join([*story, str(refused)])
                    ) from None
                found = disagreements(w, db)
                assert not found, (
                    f"{len(found)} mismatches between the engine and the model.\n"
                    + describe(w)
                    + "\nStory:\n  "
                    + "\n  ".join(story or ["(nothing happens)"])
                    + "\nMismatches:\n  "
                    + "\n  ".join(found)
                )
            finally:
                transaction.set_rollback(True)

    OUTCOMES.clear()
    check()
    print(f"{ran} worlds; events:", *sorted(OUTCOMES.items()), sep="\n  ")
    assert ran >= EXAMPLES
