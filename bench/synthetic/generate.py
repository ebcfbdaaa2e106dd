"""Generate the synthetic partnership: agencies, their people, and a caseload with history.

Everything is drawn from one ``random.Random(seed)`` in a fixed order, so the same seed and
sizes give the same rows (ids aside: they come from the tables' sequences). Times are
offsets back from an anchor day, so the same seed on another day gives the same data
shifted in time, except for referral deadlines, which count working days on the calendar
(pin ``--anchor`` for identical timestamps).

Rows are written with COPY, one transaction per batch of cases carrying everything that
hangs off those cases, so a batch is either wholly there or not at all. The grants follow
the same rules as the services that write them in the application:

- every case: ``LEAD_PERMISSIONS`` to its lead agency's group, reason its ``LeadAssignment``
  (``casework.services.case_create``);
- an accepted referral: ``BASE_PERMISSIONS`` (+ location for accommodation) to the
  receiving agency's group, reason the referral; with ``share_identity``, identity too,
  reason the consent naming that agency (``referrals.services.referral_accept``);
- a completed referral: ``view_case`` only, reason the referral (``referral_complete``).
"""

from __future__ import annotations

import datetime
import json
import math
import random
import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import accumulate
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies import access, second_factor
from agencies.models import Agency, AgencyKind, Membership, Partnership, Role, User
from audit.models import AuditEvent
from casework.models import (
    DEFAULT_URGENCY,
    Case,
    CaseAgencyGrant,
    CaseLocation,
    CaseNote,
    CaseStatus,
    Consent,
    ConsentMethod,
    ConsentScope,
    Document,
    DocumentPurpose,
    ExploitationType,
    LeadAssignment,
    Need,
    NeedStatus,
    NeedStatusChange,
    NoteVisibility,
    VictimIdentity,
)
from casework.permissions import LEAD_PERMISSIONS, VIEW_CASE
from referrals.models import Referral, ReferralKind, ReferralStatus, Urgency, respond_by_for
from referrals.services import BASE_PERMISSIONS, IDENTITY_PERMISSION, KIND_PERMISSIONS

from . import loading, vocab
from .pgcopy import IdPool, RawJSON, Table

DAY = 86_400
HISTORY_DAYS = 3 * 365
# The first agency, a national charity in every partnership, leads this share of cases;
# with the referrals it accepts its users see about a fifth of the caseload.
BIG_LEAD_SHARE = 0.14
# ...and, being in every partnership, would receive most referrals at an ordinary weight.
BIG_RECEIVE_WEIGHT = 0.1
# The last agency (with four or more) leads nothing and accepts one referral in this many
# cases: at the default size its users see about ten cases.
TINY_ONE_IN = 10_000
CARE_ROLES = frozenset({Role.CASEWORKER, Role.CASE_MANAGER})
ANSWERING_ROLES = CARE_ROLES | {Role.OFFICER, Role.PROSECUTOR}
READ_ACTIONS = ("identity.viewed", "notes.viewed", "documents.listed", "location.viewed")

# Consents recorded early in a case, with their chances. A child's are safeguarding bases.
ADULT_CONSENTS = (
    (ConsentScope.NRM_REFERRAL, 0.70),
    (ConsentScope.POLICE_CONTACT, 0.35),
    (ConsentScope.EVIDENCE_USE, 0.20),
    (ConsentScope.HEALTH_INFORMATION, 0.25),
)
CHILD_CONSENTS = (
    (ConsentScope.HEALTH_INFORMATION, 0.40),
    (ConsentScope.POLICE_CONTACT, 0.50),
)
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
OPEN_CASE_NEEDS = (
    (NeedStatus.IDENTIFIED, 0.30),
    (NeedStatus.IN_PROGRESS, 0.70),
    (NeedStatus.MET, 0.95),
    (NeedStatus.DECLINED, 0.98),
    (NeedStatus.UNMET, 1.0),
)
CLOSED_CASE_NEEDS = (
    (NeedStatus.MET, 0.60),
    (NeedStatus.DECLINED, 0.75),
    (NeedStatus.UNMET, 1.0),
)
# The statuses a need passes through to reach its current one (others: via in progress).
NEED_PATHS: dict[str, tuple[str, ...]] = {
    NeedStatus.IDENTIFIED: (NeedStatus.IDENTIFIED,),
    NeedStatus.IN_PROGRESS: (NeedStatus.IDENTIFIED, NeedStatus.IN_PROGRESS),
    NeedStatus.DECLINED: (NeedStatus.IDENTIFIED, NeedStatus.DECLINED),
}
EVIDENCE_KINDS = frozenset({"statement", "identity_document"})


@dataclass(frozen=True)
class Sizes:
    cases: int = 100_000
    agencies: int = 50
    partnerships: int = 5
    users: int = 1_000
    referrals_per_case: float = 2.0
    needs_per_case: float = 5.0
    notes_per_case: float = 5.0
    documents_per_case: float = 1.0

    def problems(self) -> list[str]:
        found = []
        if self.cases < 0:
            found.append("--cases cannot be negative")
        if self.agencies < 2:
            found.append("--agencies must be at least 2 (referrals go between agencies)")
        if not 1 <= self.partnerships <= max(1, self.agencies - 1):
            found.append("--partnerships must be between 1 and the number of agencies - 1")
        if self.users < 2 * self.agencies:
            found.append(
                "--users must be at least twice --agencies (a case manager and a "
                "caseworker in every agency)"
            )
        for name in (
            "referrals_per_case",
            "needs_per_case",
            "notes_per_case",
            "documents_per_case",
        ):
            if getattr(self, name) < 0:
                found.append(f"--{name.replace('_', '-')} cannot be negative")
        return found


DEFAULT_SIZES = Sizes()
QUICK_SIZES = Sizes(cases=2_000, agencies=10, partnerships=2, users=100)


class Picker:
    """A weighted choice that costs one ``random()`` and a bisect."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        pairs = [(item, w) for item, w in zip(items, weights, strict=True) if w > 0]
        self.items = [item for item, _ in pairs]
        self.cum = list(accumulate(w for _, w in pairs))
        self.total = self.cum[-1] if self.cum else 0.0

    @classmethod
    def of(cls, weighted: Sequence[tuple[Any, float]]) -> Picker:
        return cls([item for item, _ in weighted], [w for _, w in weighted])

    def __bool__(self) -> bool:
        return bool(self.items)

    def __call__(self, rng: random.Random) -> Any:
        return self.items[bisect_right(self.cum, rng.random() * self.total)]


def how_many(rng: random.Random, mean: float) -> int:
    """0..2·mean, uniformly: mean ``mean``, with cases that have none and cases with many."""
    return int(rng.random() * (math.floor(2 * mean) + 1)) if mean > 0 else 0


@dataclass
class AgencyPlan:
    number: int
    name: str
    kind: str
    region: str
    partnerships: list[int]
    lead_weight: float
    receive_weight: float
    tiny: bool = False
    id: int = 0
    group_id: int = 0
    care: list[int] = field(default_factory=list)
    answerers: list[int] = field(default_factory=list)
    users: list[tuple[int, str]] = field(default_factory=list)  # (user id, role)


@dataclass
class CaseDraft:
    """What the parts of one case being drawn need to know about it."""

    id: int
    number: int
    lead: AgencyPlan
    worker: int  # the lead caseworker: opens the case and records most of it
    opened: datetime.datetime
    closed_at: datetime.datetime | None
    is_child: bool
    language: str
    region: str
    end: datetime.datetime  # when it closed, or the anchor: nothing happens after it


Rows = dict[Table, list[tuple[Any, ...]]]


@dataclass
class Progress:
    log: Callable[[str], None]
    started: float = field(default_factory=time.monotonic)

    def __call__(self, message: str) -> None:
        self.log(f"[{time.monotonic() - self.started:7.1f}s] {message}")


class Generator:
    def __init__(
        self,
        *,
        sizes: Sizes,
        seed: int,
        password: str,
        anchor: datetime.datetime,
        batch: int,
        log: Callable[[str], None],
        skip_row_checks: bool = True,
    ) -> None:
        self.sizes = sizes
        self.seed = seed
        self.rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
        self.password = password
        self.anchor = anchor
        self.batch = max(1, batch)
        self.skip_row_checks = skip_row_checks
        self.progress = Progress(log)
        self.counts: dict[str, int] = {}
        self.agencies: list[AgencyPlan] = []
        self.user_agency: dict[int, int] = {}

    # --- Writing ---------------------------------------------------------------------

    def _write(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            table.copy(rows)
        self._count(table, len(rows))

    def _count(self, table: Table, rows: int) -> None:
        self.counts[table.label] = self.counts.get(table.label, 0) + rows

    # --- Lookups ---------------------------------------------------------------------

    def _lookups(self) -> None:
        content_type = ContentType.objects.get_for_model
        self.ct_lead = content_type(LeadAssignment).pk
        self.ct_referral = content_type(Referral).pk
        self.ct_consent = content_type(Consent).pk

        def perm(name: str) -> int:
            return access.permission_id(name, Case)

        self.lead_perm_ids = [perm(p) for p in sorted(LEAD_PERMISSIONS)]
        self.lead_perm_names = sorted(LEAD_PERMISSIONS)
        self.view_case_id = perm(VIEW_CASE)
        self.referral_perms = {
            kind: sorted(BASE_PERMISSIONS + KIND_PERMISSIONS.get(kind, ()))
            for kind in ReferralKind.values
        }
        self.referral_perm_ids = {
            kind: [perm(p) for p in names] for kind, names in self.referral_perms.items()
        }
        self.identity_perm_id = perm(IDENTITY_PERMISSION)
        # The detail of the lead agency's grant.created, written once per case: built as
        # text, because json.dumps per row is a large share of the drawing time.
        self.lead_grant_detail = (
            json.dumps(
                {
                    "permissions": self.lead_perm_names,
                    "user_id": None,
                    "expires_at": None,
                    "created": len(self.lead_perm_ids),
                    "reason_type": "casework.leadassignment",
                }
            )[:-1]  # without its closing brace: agency_id and reason_id follow
        )

        self.t_audit = Table(
            AuditEvent,
            "occurred_at actor_id actor_agency_id action target_type target_id "
            "case_id request_id detail",
        )

    def _audit(
        self,
        rows: list[tuple[Any, ...]],
        when: datetime.datetime,
        actor: int | None,
        action: str,
        target_type: str,
        target_id: int,
        case_id: int | None,
        detail: dict[str, Any] | RawJSON,
    ) -> None:
        rows.append(
            (
                when,
                actor,
                self.user_agency.get(actor) if actor is not None else None,
                action,
                target_type,
                str(target_id),
                case_id,
                vocab.AUDIT_REQUEST_ID,
                detail,
            )
        )

    # --- Agencies and partnerships -------------------------------------------------------

    def _plan_agencies(self) -> None:
        rng = self.rng
        count, partnerships = self.sizes.agencies, self.sizes.partnerships
        width = max(2, len(str(count)))
        for index in range(count):
            tiny = count >= 4 and index == count - 1
            if index == 0:
                kind = AgencyKind.CHARITY
            elif tiny:
                kind = AgencyKind.COMMUNITY_GROUP
            else:
                kind = vocab.KIND_CYCLE[(index - 1) % len(vocab.KIND_CYCLE)]
            member_of = list(range(partnerships)) if index == 0 else [(index - 1) % partnerships]
            region = "National" if index == 0 else vocab.REGIONS[member_of[0] % len(vocab.REGIONS)]
            lead = vocab.LEAD_WEIGHT.get(kind, 0.0) * (0.4 + 1.2 * rng.random())
            receive = 0.5 + rng.random()
            if tiny:
                lead = receive = 0.0
            self.agencies.append(
                AgencyPlan(
                    number=index + 1,
                    name=f"{vocab.AGENCY_PREFIX}{index + 1:0{width}d}",
                    kind=kind,
                    region=region,
                    partnerships=member_of,
                    lead_weight=lead,
                    receive_weight=receive,
                    tiny=tiny,
                )
            )
        big, rest = self.agencies[0], self.agencies[1:]
        big.receive_weight = BIG_RECEIVE_WEIGHT
        rest_total = sum(a.lead_weight for a in rest)
        if rest_total == 0:  # e.g. two agencies, the second a prosecutor: the charity leads all
            big.lead_weight = 1.0
        else:
            for agency in rest:
                agency.lead_weight *= (1 - BIG_LEAD_SHARE) / rest_total
            big.lead_weight = BIG_LEAD_SHARE

    def _agencies(self) -> None:
        self._plan_agencies()
        groups, agencies = IdPool(Group, len(self.agencies)), IdPool(Agency, len(self.agencies))
        created = self.anchor - datetime.timedelta(days=HISTORY_DAYS + 30)
        group_rows, agency_rows, audit_rows = [], [], []
        for plan in self.agencies:
            plan.group_id, plan.id = groups.take(), agencies.take()
            group_rows.append((plan.group_id, f"agency:{plan.name}"[:150]))
            agency_rows.append(
                (
                    plan.id,
                    plan.name,
                    plan.kind,
                    "GB",
                    plan.region,
                    plan.kind in vocab.FIRST_RESPONDER_KINDS,
                    True,
                    plan.group_id,
                    created,
                )
            )
            self._audit(
                audit_rows,
                created,
                None,
                "agency.created",
                "agencies.agency",
                plan.id,
                None,
                {"kind": plan.kind},
            )
        partnership_pool = IdPool(Partnership, self.sizes.partnerships)
        partnership_rows, member_rows = [], []
        partnership_ids = []
        for number in range(1, self.sizes.partnerships + 1):
            pk = partnership_pool.take()
            partnership_ids.append(pk)
            partnership_rows.append(
                (
                    pk,
                    f"{vocab.PARTNERSHIP_PREFIX}{number}",
                    f"SYN-ISA-{number:03d}",
                    created.date(),
                    None,
                )
            )
        for plan in self.agencies:
            member_rows.extend((partnership_ids[p], plan.id) for p in plan.partnerships)

        with transaction.atomic():
            self._write(Table(Group, "id name"), group_rows)
            self._write(
                Table(
                    Agency,
                    "id name kind country region is_first_responder active group_id created_at",
                ),
                agency_rows,
            )
            self._write(
                Table(Partnership, "id name agreement_reference starts_on ends_on"),
                partnership_rows,
            )
            self._write(
                Table(Partnership.agencies.through, "partnership_id agency_id"), member_rows
            )
            self._write(self.t_audit, audit_rows)
        self.progress(
            f"{len(self.agencies)} agencies (with their groups) in "
            f"{self.sizes.partnerships} partnerships"
        )

    # --- Users -------------------------------------------------------------------------

    def _allocate_users(self) -> list[int]:
        """Two per agency, the rest in proportion to the caseload each agency leads."""
        base = [2] * len(self.agencies)
        spare = self.sizes.users - sum(base)
        weights = [a.lead_weight + 0.01 for a in self.agencies]
        total = sum(weights)
        exact = [spare * w / total for w in weights]
        floors = [int(x) for x in exact]
        left = spare - sum(floors)
        by_remainder = sorted(range(len(exact)), key=lambda i: (floors[i] - exact[i], i))
        for i in by_remainder[:left]:
            floors[i] += 1
        return [b + f for b, f in zip(base, floors, strict=True)]

    def _users(self) -> None:
        rng = self.rng
        started = time.monotonic()
        password = make_password(self.password)  # one hash, shared: hashing 1,000 takes minutes
        self.progress(f"password hashed once in {time.monotonic() - started:.1f}s")
        width = max(4, len(str(self.sizes.users)))
        users, memberships = IdPool(User, self.sizes.users), IdPool(Membership, self.sizes.users)
        user_rows, membership_rows, audit_rows = [], [], []
        # Every synthetic user signs in with the demo's authenticator, as demo users do.
        demo_key = second_factor.demo_key_hex()
        device_rows: list[tuple[Any, ...]] = []
        number = 0
        for plan, count in zip(self.agencies, self._allocate_users(), strict=True):
            mix = Picker.of(vocab.ROLE_MIX.get(plan.kind, vocab.DEFAULT_ROLE_MIX))
            for k in range(count):
                number += 1
                role = Role.CASE_MANAGER if k == 0 else Role.CASEWORKER if k == 1 else mix(rng)
                username = f"{vocab.USERNAME_PREFIX}{number:0{width}d}"
                joined = self.anchor - datetime.timedelta(
                    seconds=int((HISTORY_DAYS + 30 * rng.random()) * DAY)
                )
                user_id, membership_id = users.take(), memberships.take()
                user_rows.append(
                    (
                        user_id,
                        password,
                        None,
                        False,
                        username,
                        rng.choice(vocab.GIVEN_NAMES),
                        rng.choice(vocab.FAMILY_NAMES),
                        f"{username}@example.org",
                        False,
                        True,
                        joined,
                    )
                )
                membership_rows.append((membership_id, user_id, plan.id, role, joined, joined))
                device_rows.append((user_id, second_factor.DEMO_DEVICE_NAME, True, demo_key))
                self._audit(
                    audit_rows,
                    joined,
                    None,
                    "membership.created",
                    "agencies.membership",
                    membership_id,
                    None,
                    {"user_id": user_id, "agency_id": plan.id, "role": role, "invited": False},
                )
                self.user_agency[user_id] = plan.id
                plan.users.append((user_id, role))
                if role in CARE_ROLES:
                    plan.care.append(user_id)
                if role in ANSWERING_ROLES:
                    plan.answerers.append(user_id)
        with transaction.atomic():
            self._write(
                Table(
                    User,
                    "id password last_login is_superuser username first_name last_name "
                    "email is_staff is_active date_joined",
                ),
                user_rows,
            )
            self._write(
                Table(Membership, "id user_id agency_id role created_at updated_at"),
                membership_rows,
            )
            self._write(Table(TOTPDevice, "user_id name confirmed key"), device_rows)
            self._write(self.t_audit, audit_rows)
        self.progress(f"{number} users with their memberships and authenticators")

    # --- Cases ---------------------------------------------------------------------------

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

    def _tables(self) -> None:
        self.t_case = Table(
            Case,
            "id reference lead_agency_id lead_caseworker_id status opened_at "
            "closed_at closure_reason closure_note exploitation_types county_lines "
            "exploited_as_child is_child risk_level gender nationality "
            "first_language interpreter_needed region how_identified updated_at",
        )
        self.t_lead = Table(LeadAssignment, "id case_id agency_id started_at ended_at")
        self.t_identity = Table(
            VictimIdentity,
            "case_id given_name family_name aliases date_of_birth estimated_age "
            "phone email documents_held_by_other updated_at",
        )
        self.t_location = Table(
            CaseLocation,
            "id case_id accommodation_type address since ended_at recorded_by_id recorded_at",
        )
        self.t_consent = Table(
            Consent,
            "id case_id scope agency_id given_at method language basis_reason "
            "recorded_by_id recorded_at withdrawn_at withdrawn_reason "
            "withdrawn_by_id",
        )
        self.t_referral = Table(
            Referral,
            "id case_id from_agency_id to_agency_id kind urgency reason "
            "share_identity identity_basis_id status sent_by_id sent_at respond_by "
            "answered_by_id answered_at decline_reason closed_at "
            "overdue_notified_at",
        )
        self.t_need = Table(
            Need,
            "id case_id category urgency status owner_agency_id target_date note "
            "created_by_id created_at updated_at",
        )
        self.t_need_change = Table(
            NeedStatusChange, "need_id from_status to_status changed_by_id changed_at"
        )
        self.t_note = Table(
            CaseNote, "case_id author_id agency_id body visibility created_at updated_at"
        )
        self.t_document = Table(
            Document,
            "case_id file storage_key original_name content_type size sha256 kind "
            "purpose description uploaded_by_id uploaded_at",
        )
        self.t_grant = Table(
            CaseAgencyGrant,
            "group_id permission_id content_object_id reason_type_id reason_id "
            "expires_at granted_at granted_by_id",
        )
        # Parents before children (the constraints are deferred, but it reads better).
        self.case_tables = (
            self.t_case,
            self.t_lead,
            self.t_identity,
            self.t_location,
            self.t_consent,
            self.t_referral,
            self.t_need,
            self.t_need_change,
            self.t_note,
            self.t_document,
            self.t_grant,
            self.t_audit,
        )

    def _pickers(self) -> None:
        self.pick = {
            name: Picker.of(weighted)
            for name, weighted in (
                ("types", vocab.EXPLOITATION_TYPES),
                ("risk", vocab.RISK_LEVELS),
                ("gender", vocab.GENDERS),
                ("how", vocab.HOW_IDENTIFIED),
                ("closure", vocab.CLOSURE_REASONS),
                ("referral_kind", vocab.REFERRAL_KINDS),
                ("urgency", vocab.REFERRAL_URGENCIES),
                ("need", vocab.NEED_CATEGORIES),
                ("accommodation", vocab.ACCOMMODATION_TYPES),
                ("consent_method", vocab.CONSENT_METHODS_ADULT),
            )
        }
        self.pick["nationality"] = Picker(
            [(code, language) for code, _, language in vocab.NATIONALITIES],
            [w for _, w, _ in vocab.NATIONALITIES],
        )
        self.pick["document"] = Picker(
            [(kind, ctype, ext) for kind, _, ctype, ext in vocab.DOCUMENT_KINDS],
            [w for _, w, _, _ in vocab.DOCUMENT_KINDS],
        )
        self.leads = Picker(self.agencies, [a.lead_weight for a in self.agencies])
        self.receivers = self._receivers()

    def _between(self, start: datetime.datetime, end: datetime.datetime) -> datetime.datetime:
        """A whole second between ``start`` and ``end`` (``start`` if they are the wrong way)."""
        span = (end - start).total_seconds()
        return start + datetime.timedelta(seconds=int(self.rng.random() * max(span, 0)))

    def _respond_by(self, sent_at: datetime.datetime, urgency: str) -> datetime.datetime:
        """The application's own deadline rule, remembered per day (it walks a calendar)."""
        if urgency == Urgency.EMERGENCY:
            return respond_by_for(urgency, sent_at, "GB")
        key = (sent_at.date(), urgency)
        if key not in self.respond_by_offsets:
            noon = sent_at.replace(hour=12, minute=0, second=0)
            self.respond_by_offsets[key] = respond_by_for(urgency, noon, "GB") - noon
        return sent_at + self.respond_by_offsets[key]

    def _cases(self) -> None:
        sizes = self.sizes
        if sizes.cases == 0:
            return
        self._tables()
        self._pickers()
        block = max(1_000, self.batch)
        self.pools = {
            "case": IdPool(Case, block),
            "lead": IdPool(LeadAssignment, block),
            "location": IdPool(CaseLocation, block),
            "consent": IdPool(Consent, 3 * block),
            "referral": IdPool(Referral, 3 * block),
            "need": IdPool(Need, 6 * block),
        }
        self.respond_by_offsets: dict[tuple[datetime.date, str], datetime.timedelta] = {}
        self.tiny = next((a for a in self.agencies if a.tiny), None)
        self.tiny_every = max(1, sizes.cases // max(1, sizes.cases // TINY_ONE_IN))
        self.ref_width = max(6, len(str(sizes.cases)))

        rows: dict[Table, list[tuple[Any, ...]]] = {t: [] for t in self.case_tables}
        width = len(f"{sizes.cases:,}")
        settings, notes = loading.batch_settings(
            (t.name for t in self.case_tables), skip_row_checks=self.skip_row_checks
        )
        self.progress(
            "batch settings: "
            + ", ".join(f"{k}={v}" for k, v in settings.items())
            + (f" ({notes})" if notes else "")
        )
        writer = loading.BatchWriter(
            settings=settings,
            # A second connection cannot see rows of an enclosing, uncommitted transaction.
            background=not connection.in_atomic_block,
        )

        def report(number: int, count: int, drawn: float) -> Callable[[float], None]:
            def done(written: float) -> None:
                self.progress(
                    f"cases {number:>{width},}/{sizes.cases:,} "
                    f"({100 * number / sizes.cases:5.1f}%): {count:,} rows "
                    f"(drawn and encoded in {drawn:.1f}s, written in {written:.1f}s)"
                )

            return done

        mark = time.monotonic()
        try:
            for number in range(1, sizes.cases + 1):
                self._case(number, rows)
                if number % self.batch == 0 or number == sizes.cases:
                    count = sum(len(r) for r in rows.values())
                    batch = [(t, t.encode(rows[t])) for t in self.case_tables]
                    for table in self.case_tables:
                        self._count(table, len(rows[table]))
                    rows = {t: [] for t in self.case_tables}
                    writer.submit(batch, report(number, count, time.monotonic() - mark))
                    mark = time.monotonic()
        finally:
            writer.finish()
        if "session_replication_role" in settings:
            problems = loading.orphans(t.model for t in self.case_tables)
            if problems:
                raise IntegrityError(
                    "Synthetic rows point at rows that do not exist: " + "; ".join(problems)
                )
            self.progress(f"every foreign key of {len(self.case_tables)} tables verified")

    def _case(self, number: int, rows: dict[Table, list[tuple[Any, ...]]]) -> None:
        rng, anchor, pick = self.rng, self.anchor, self.pick
        lead: AgencyPlan = self.leads(rng)
        case_id, assignment_id = self.pools["case"].take(), self.pools["lead"].take()
        worker = rng.choice(lead.care)
        # References follow the order of opening, as the application issues them; more
        # cases were opened recently than long ago. Older cases are more often closed.
        quantile = 1 - (number - rng.random()) / self.sizes.cases
        age_days = (quantile**1.6) * HISTORY_DAYS
        opened = anchor - datetime.timedelta(seconds=int(age_days * DAY) + 3600)
        p_closed = 0.02 if age_days < 30 else min(0.75, 0.9 * age_days / HISTORY_DAYS)
        roll = rng.random()
        if roll < p_closed:
            status = CaseStatus.CLOSED
        elif roll < p_closed + (1 - p_closed) * (0.6 if age_days < 14 else 0.2):
            status = CaseStatus.OPEN
        else:
            status = CaseStatus.ACTIVE
        closed_at = None
        if status == CaseStatus.CLOSED:
            closed_at = self._between(opened + (anchor - opened) * 0.3, anchor)
        closure = pick["closure"](rng) if closed_at else ""
        draws = 1 + (rng.random() < 0.15) + (rng.random() < 0.02)
        types = {pick["types"](rng) for _ in range(draws)}
        if len(types) > 1:
            types.discard(ExploitationType.UNKNOWN)
        as_child = rng.random() < 0.42
        is_child = as_child and rng.random() < 0.75
        county_lines = ExploitationType.CRIMINAL in types and (
            rng.random() < (0.5 if as_child else 0.05)
        )
        nationality, language = ("GB", "English") if county_lines else pick["nationality"](rng)
        region = lead.region if lead.region != "National" else rng.choice(vocab.REGIONS)
        reference = f"{vocab.CASE_PREFIX}{number:0{self.ref_width}d}"
        case = CaseDraft(
            id=case_id,
            number=number,
            lead=lead,
            worker=worker,
            opened=opened,
            closed_at=closed_at,
            is_child=is_child,
            language=language,
            region=region,
            end=closed_at or anchor,
        )
        rows[self.t_case].append(
            (
                case_id,
                reference,
                lead.id,
                worker,
                status,
                opened,
                closed_at,
                closure,
                rng.choice(vocab.CLOSURE_NOTES) if closure == "other" else "",
                sorted(types),
                county_lines,
                as_child,
                is_child,
                pick["risk"](rng),
                pick["gender"](rng),
                nationality,
                language,
                language not in ("", "English") and rng.random() < 0.7,
                region,
                pick["how"](rng),
                case.end,
            )
        )
        rows[self.t_lead].append((assignment_id, case_id, lead.id, opened, None))
        rows[self.t_grant].extend(
            (lead.group_id, pid, case_id, self.ct_lead, assignment_id, None, opened, worker)
            for pid in self.lead_perm_ids
        )
        audit = rows[self.t_audit]
        self._audit(
            audit,
            opened,
            worker,
            "case.created",
            "casework.case",
            case_id,
            case_id,
            {"reference": reference},
        )
        self._audit(
            audit,
            opened,
            worker,
            "grant.created",
            "casework.case",
            case_id,
            case_id,
            RawJSON(
                f'{self.lead_grant_detail}, "agency_id": {lead.id}, "reason_id": {assignment_id}}}'
            ),
        )
        if closed_at:
            self._audit(
                audit,
                closed_at,
                worker,
                "case.closed",
                "casework.case",
                case_id,
                case_id,
                {"from": CaseStatus.ACTIVE, "reason": closure},
            )

        self._identity(case, rows, as_child)
        self._location(case, rows)
        self._consents(case, rows)
        accepted_to = self._referrals(case, rows)
        self._needs(case, rows, accepted_to)
        self._notes(case, rows)
        self._documents(case, rows)
        for _ in range(int(rng.random() * 4)):  # reads of sensitive parts, as audited
            self._audit(
                audit,
                self._between(opened, case.end),
                rng.choice(lead.care),
                rng.choice(READ_ACTIONS),
                "casework.case",
                case_id,
                case_id,
                {},
            )

    def _identity(self, case: CaseDraft, rows: Rows, as_child: bool) -> None:
        rng = self.rng
        if rng.random() >= 0.92:  # some people are not (yet) identified
            return
        if case.is_child:
            years = 12 + rng.random() * 6
        elif as_child:
            years = 18 + rng.random() * 8
        else:
            years = 18 + rng.random() * 42
        known_dob = rng.random() < 0.8
        dob = (self.anchor - datetime.timedelta(days=int(years * 365.25))).date()
        rows[self.t_identity].append(
            (
                case.id,
                rng.choice(vocab.GIVEN_NAMES),
                rng.choice(vocab.FAMILY_NAMES),
                [rng.choice(vocab.GIVEN_NAMES)] if rng.random() < 0.1 else [],
                dob if known_dob else None,
                None if known_dob else int(years),
                f"+447700900{rng.randrange(1000):03d}" if rng.random() < 0.6 else "",
                f"person-{case.number}@example.org" if rng.random() < 0.25 else "",
                rng.random() < 0.2,
                self._between(case.opened, case.end),
            )
        )

    def _location(self, case: CaseDraft, rows: Rows) -> None:
        rng = self.rng
        if rng.random() >= (0.3 if case.closed_at else 0.6):
            return
        location_id = self.pools["location"].take()
        recorded = self._between(case.opened, case.opened + (case.end - case.opened) * 0.2)
        rows[self.t_location].append(
            (
                location_id,
                case.id,
                self.pick["accommodation"](rng),
                f"Flat {rng.randrange(1, 40)}, {rng.randrange(1, 300)} Example Road, {case.region}",
                recorded.date(),
                case.closed_at,
                case.worker,
                recorded,
            )
        )
        self._audit(
            rows[self.t_audit],
            recorded,
            case.worker,
            "location.recorded",
            "casework.case",
            case.id,
            case.id,
            {"location_id": location_id},
        )

    def _consent(
        self,
        case: CaseDraft,
        rows: Rows,
        scope: str,
        given: datetime.datetime,
        *,
        agency_id: int | None = None,
        withdrawable: bool = True,
    ) -> int:
        """Adults consent (in writing, verbally, through an interpreter); for a child a
        safeguarding basis, with its reason, stands in."""
        rng = self.rng
        consent_id = self.pools["consent"].take()
        language = ""
        if case.is_child:
            method = ConsentMethod.SAFEGUARDING_BASIS
            basis = rng.choice(vocab.SAFEGUARDING_REASONS)
        else:
            method, basis = self.pick["consent_method"](rng), ""
            if method == ConsentMethod.VERBAL_INTERPRETER:
                language = (
                    case.language
                    if case.language not in ("", "English")
                    else rng.choice(vocab.CONSENT_LANGUAGES)
                )
        withdrawn_at = (
            self._between(given, case.end) if withdrawable and rng.random() < 0.04 else None
        )
        rows[self.t_consent].append(
            (
                consent_id,
                case.id,
                scope,
                agency_id,
                given,
                method,
                language,
                basis,
                case.worker,
                given,
                withdrawn_at,
                "The person changed their mind." if withdrawn_at else "",
                case.worker if withdrawn_at else None,
            )
        )
        audit = rows[self.t_audit]
        self._audit(
            audit,
            given,
            case.worker,
            "consent.recorded",
            "casework.case",
            case.id,
            case.id,
            {"consent_id": consent_id, "scope": scope, "method": method},
        )
        if withdrawn_at:
            self._audit(
                audit,
                withdrawn_at,
                case.worker,
                "consent.withdrawn",
                "casework.case",
                case.id,
                case.id,
                {"consent_id": consent_id, "scope": scope, "grants_revoked": 0},
            )
        return consent_id

    def _consents(self, case: CaseDraft, rows: Rows) -> None:
        early = min(case.end, case.opened + datetime.timedelta(days=14))
        for scope, chance in CHILD_CONSENTS if case.is_child else ADULT_CONSENTS:
            if self.rng.random() < chance:
                self._consent(case, rows, scope, self._between(case.opened, early))

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
                "referral.sent",
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
                    "grant.created",
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
                    "referral.accepted",
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
                        "referral.completed",
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
                    "referral.declined",
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
                    "referral.withdrawn",
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
                    "referral.expired",
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

    def _needs(self, case: CaseDraft, rows: Rows, accepted_to: list[AgencyPlan]) -> None:
        rng = self.rng
        for _ in range(how_many(rng, self.sizes.needs_per_case)):
            need_id = self.pools["need"].take()
            category = self.pick["need"](rng)
            created = self._between(
                case.opened, min(case.end, case.opened + datetime.timedelta(days=30))
            )
            roll = rng.random()
            outcomes = CLOSED_CASE_NEEDS if case.closed_at else OPEN_CASE_NEEDS
            final = next((s for s, upto in outcomes if roll < upto), outcomes[-1][0])
            owner = rng.choice(accepted_to) if accepted_to and rng.random() < 0.15 else case.lead
            when, previous = created, ""
            for step in NEED_PATHS.get(
                final, (NeedStatus.IDENTIFIED, NeedStatus.IN_PROGRESS, final)
            ):
                rows[self.t_need_change].append((need_id, previous, step, case.worker, when))
                previous = step
                when = self._between(when, max(case.end, when))
            target = (created + datetime.timedelta(days=rng.randrange(7, 91))).date()
            rows[self.t_need].append(
                (
                    need_id,
                    case.id,
                    category,
                    DEFAULT_URGENCY.get(category, 4),
                    final,
                    owner.id,
                    target if rng.random() < 0.85 else None,
                    rng.choice(vocab.NEED_NOTES),
                    case.worker,
                    created,
                    when,
                )
            )
            self._audit(
                rows[self.t_audit],
                created,
                case.worker,
                "need.added",
                "casework.case",
                case.id,
                case.id,
                {"need_id": need_id, "category": category},
            )

    def _notes(self, case: CaseDraft, rows: Rows) -> None:
        """Written by the lead agency's care staff: only the lead holds add_case_note."""
        rng = self.rng
        for _ in range(how_many(rng, self.sizes.notes_per_case)):
            written = self._between(case.opened, case.end)
            body = rng.choice(vocab.NOTE_TEMPLATES).format(
                topic=rng.choice(vocab.NOTE_TOPICS), days=rng.randrange(2, 15)
            )
            visibility = (
                NoteVisibility.LEAD_AGENCY if rng.random() < 0.6 else NoteVisibility.CASE_TEAM
            )
            rows[self.t_note].append(
                (
                    case.id,
                    rng.choice(case.lead.care),
                    case.lead.id,
                    body,
                    visibility,
                    written,
                    written,
                )
            )

    def _documents(self, case: CaseDraft, rows: Rows) -> None:
        """Metadata only: no file exists behind these rows."""
        rng = self.rng
        for k in range(1, how_many(rng, self.sizes.documents_per_case) + 1):
            kind, content_type, ext = self.pick["document"](rng)
            key = f"{vocab.STORAGE_KEY_PREFIX}{case.number:0{self.ref_width}d}-{k}"
            evidence = kind in EVIDENCE_KINDS and rng.random() < 0.4
            rows[self.t_document].append(
                (
                    case.id,
                    f"documents/{case.id}/{key}",
                    key,
                    f"{kind}-{k}.{ext}",
                    content_type,
                    rng.randrange(20_000, 5_000_000),
                    f"{rng.getrandbits(256):064x}",
                    kind,
                    DocumentPurpose.EVIDENCE if evidence else DocumentPurpose.SUPPORT,
                    "",
                    case.worker,
                    self._between(case.opened, case.end),
                )
            )

    # --- All of it -----------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        self._lookups()
        self._agencies()
        self._users()
        self._cases()
        return self.counts

    def describe(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "anchor": self.anchor.isoformat(),
            "sizes": asdict(self.sizes),
        }
