"""Agencies, their groups and partnerships, and their people: users with their
memberships and authenticators."""

from __future__ import annotations

import datetime
import time
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies import second_factor
from agencies.audit_actions import AgencyAction
from agencies.models import Agency, AgencyKind, Membership, Partnership, Role, User

from . import vocab
from .drawing import DAY, HISTORY_DAYS, AgencyPlan, Drawing, Picker
from .pgcopy import IdPool, Table

# The first agency, a national charity in every partnership, leads this share of cases;
# with the referrals it accepts its users see about a fifth of the caseload.
BIG_LEAD_SHARE = 0.14
# ...and, being in every partnership, would receive most referrals at an ordinary weight.
BIG_RECEIVE_WEIGHT = 0.1
CARE_ROLES = frozenset({Role.CASEWORKER, Role.CASE_MANAGER})
ANSWERING_ROLES = CARE_ROLES | {Role.OFFICER, Role.PROSECUTOR}


class PeopleDrawing(Drawing):
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
        audit_rows: list[tuple[Any, ...]]
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
                AgencyAction.CREATED,
                "agencies.agency",
                plan.id,
                None,
                {"kind": plan.kind},
            )
        partnership_pool = IdPool(Partnership, self.sizes.partnerships)
        member_rows: list[tuple[Any, ...]]
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
        audit_rows: list[tuple[Any, ...]]
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
                    AgencyAction.MEMBERSHIP_CREATED,
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
