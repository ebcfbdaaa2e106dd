"""seed_synthetic: the sizes asked for, grants that follow the application's rules, the same
data for the same seed, and a reset that leaves everything else alone.

The command writes with COPY on a second connection, so these tests commit for real
(``transaction=True``) and the database is flushed after each.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError

from agencies import access
from agencies.models import Agency, Membership, Partnership, Role, User
from audit import chain
from audit.models import AuditEvent
from casework.models import (
    Case,
    CaseAgencyGrant,
    CaseLocation,
    CaseNote,
    Consent,
    ConsentScope,
    Document,
    LeadAssignment,
    Need,
    NeedStatusChange,
    VictimIdentity,
)
from casework.permissions import LEAD_PERMISSIONS
from referrals.models import Referral, ReferralKind, ReferralStatus
from referrals.services import BASE_PERMISSIONS, IDENTITY_PERMISSION, KIND_PERMISSIONS

pytestmark = pytest.mark.django_db(transaction=True)

TINY = {"cases": 300, "agencies": 6, "partnerships": 2, "users": 30, "seed": 7}
ANCHOR = "2026-03-02"
SYN = {"reference__startswith": "SYN-"}
ON_SYN = {"case__reference__startswith": "SYN-"}


def seed(tmp_path: Path, **options: Any) -> dict[str, Any]:
    """Run the command; returns the summary it wrote."""
    summary = tmp_path / "summary.json"
    call_command(
        "seed_synthetic",
        **{**TINY, "anchor": ANCHOR, "summary": summary, **options},
        stdout=io.StringIO(),
    )
    return json.loads(summary.read_text()) if summary.exists() else {}


def perm_ids(names: tuple[str, ...] | list[str]) -> set[int]:
    return {access.permission_id(name, Case) for name in names}


def synthetic_counts() -> dict[str, int]:
    return {
        "agencies": Agency.objects.filter(name__startswith="Synthetic Agency ").count(),
        "groups": Group.objects.filter(name__startswith="agency:Synthetic Agency ").count(),
        "partnerships": Partnership.objects.filter(name__startswith="Synthetic ").count(),
        "users": User.objects.filter(username__startswith="synth-").count(),
        "cases": Case.objects.filter(**SYN).count(),
        "leads": LeadAssignment.objects.filter(**ON_SYN).count(),
        "identities": VictimIdentity.objects.filter(**ON_SYN).count(),
        "locations": CaseLocation.objects.filter(**ON_SYN).count(),
        "consents": Consent.objects.filter(**ON_SYN).count(),
        "referrals": Referral.objects.filter(**ON_SYN).count(),
        "needs": Need.objects.filter(**ON_SYN).count(),
        "need_changes": NeedStatusChange.objects.filter(
            need__case__reference__startswith="SYN-"
        ).count(),
        "notes": CaseNote.objects.filter(**ON_SYN).count(),
        "documents": Document.objects.filter(**ON_SYN).count(),
        "grants": CaseAgencyGrant.objects.filter(
            content_object__reference__startswith="SYN-"
        ).count(),
        "audit": AuditEvent.objects.filter(request_id="synthetic-seed").count(),
    }


def fingerprint() -> list[tuple[Any, ...]]:
    """The synthetic data without its ids (which come from sequences)."""
    cases = list(
        Case.objects.filter(**SYN)
        .order_by("reference")
        .values_list(
            "reference",
            "status",
            "lead_agency__name",
            "lead_caseworker__username",
            "opened_at",
            "risk_level",
            "exploitation_types",
            "is_child",
            "nationality",
        )
    )
    referrals = list(
        Referral.objects.filter(**ON_SYN)
        .order_by("case__reference", "sent_at", "to_agency__name", "kind")
        .values_list("case__reference", "to_agency__name", "kind", "status", "sent_at")
    )
    grants = sorted(
        CaseAgencyGrant.objects.filter(content_object__reference__startswith="SYN-").values_list(
            "content_object__reference", "group__name", "permission__codename", "reason_type__model"
        )
    )
    return [*cases, *referrals, *grants]


def test_loads_the_sizes_asked_for(tmp_path: Path) -> None:
    summary = seed(tmp_path)

    counts = synthetic_counts()
    assert counts["cases"] == counts["leads"] == 300
    assert counts["agencies"] == counts["groups"] == 6
    assert counts["partnerships"] == 2
    assert counts["users"] == 30
    # "About" two referrals, five needs and five notes per case.
    assert 1.5 * 300 < counts["referrals"] < 2.5 * 300
    assert 4 * 300 < counts["needs"] < 6 * 300
    assert 4 * 300 < counts["notes"] < 6 * 300
    assert counts["need_changes"] > counts["needs"]
    assert counts["consents"] > 300
    assert counts["documents"] > 0 and counts["identities"] > 0 and counts["audit"] > 0

    for agency in Agency.objects.filter(name__startswith="Synthetic Agency "):
        assert agency.group.name == f"agency:{agency.name}"
        assert agency.partnerships.exists()
        roles = set(agency.memberships.values_list("role", flat=True))
        assert {Role.CASE_MANAGER, Role.CASEWORKER} <= roles
    users = User.objects.filter(username__startswith="synth-")
    assert Membership.objects.filter(user__in=users).count() == 30
    assert len(set(users.values_list("password", flat=True))) == 1  # hashed once
    assert users.first().check_password("synthetic-password-1")

    # Every case's lead caseworker works for its lead agency, in a care role.
    for case in Case.objects.filter(**SYN).select_related("lead_caseworker__membership"):
        membership = case.lead_caseworker.membership
        assert membership.agency_id == case.lead_agency_id
        assert membership.role in (Role.CASEWORKER, Role.CASE_MANAGER)

    assert set(summary["bench_users"]) == {"sees_10", "sees_1pct", "sees_20pct", "sees_20000"}
    for key, username in summary["bench_users"].items():
        user = User.objects.get(username=username)
        assert summary["users"][key]["visible_cases"] == (
            Case.objects.visible_to(user, "casework.view_case").count()
        )


def test_every_case_holds_the_lead_grants_for_its_lead_assignment(tmp_path: Path) -> None:
    seed(tmp_path)

    lead_type = ContentType.objects.get_for_model(LeadAssignment)
    held: dict[int, set[tuple[int, int, int]]] = defaultdict(set)
    for case_id, group_id, permission_id, reason_id in CaseAgencyGrant.objects.filter(
        reason_type=lead_type
    ).values_list("content_object_id", "group_id", "permission_id", "reason_id"):
        held[case_id].add((group_id, permission_id, reason_id))

    expected_perms = perm_ids(LEAD_PERMISSIONS)
    for assignment in LeadAssignment.objects.filter(**ON_SYN).select_related("agency"):
        assert assignment.ended_at is None
        assert held[assignment.case_id] == {
            (assignment.agency.group_id, pid, assignment.pk) for pid in expected_perms
        }
    assert set(held) == set(Case.objects.filter(**SYN).values_list("pk", flat=True))


def test_answered_referrals_grant_what_their_kind_needs(tmp_path: Path) -> None:
    seed(tmp_path)

    referral_type = ContentType.objects.get_for_model(Referral)
    consent_type = ContentType.objects.get_for_model(Consent)
    by_reason: dict[tuple[int, int], set[tuple[int, int, int]]] = defaultdict(set)
    for reason_type, reason_id, group_id, permission_id, case_id in CaseAgencyGrant.objects.filter(
        reason_type__in=[referral_type, consent_type]
    ).values_list("reason_type_id", "reason_id", "group_id", "permission_id", "content_object_id"):
        by_reason[(reason_type, reason_id)].add((group_id, permission_id, case_id))

    referrals = Referral.objects.filter(**ON_SYN).select_related("to_agency", "identity_basis")
    statuses = set(referrals.values_list("status", flat=True))
    assert {ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED, ReferralStatus.DECLINED} <= statuses
    for referral in referrals:
        group = referral.to_agency.group_id
        granted = by_reason.get((referral_type.pk, referral.pk), set())
        if referral.status == ReferralStatus.ACCEPTED:
            names = BASE_PERMISSIONS + KIND_PERMISSIONS.get(referral.kind, ())
            assert granted == {(group, pid, referral.case_id) for pid in perm_ids(names)}
            if referral.kind == ReferralKind.ACCOMMODATION:
                assert perm_ids(["casework.view_case_location"]) <= {p for _, p, _ in granted}
        elif referral.status == ReferralStatus.COMPLETED:
            assert granted == {(group, *perm_ids(["casework.view_case"]), referral.case_id)}
        else:
            assert granted == set()
        if referral.share_identity:
            basis = referral.identity_basis
            assert basis is not None
            assert basis.scope == ConsentScope.SHARE_IDENTITY
            assert basis.agency_id == referral.to_agency_id
            identity = by_reason.get((consent_type.pk, basis.pk), set())
            if referral.status == ReferralStatus.ACCEPTED:
                assert identity == {(group, *perm_ids([IDENTITY_PERMISSION]), referral.case_id)}
            else:
                assert identity == set()


def test_a_caseworker_sees_its_agency_cases_and_the_referrals_it_took_on(tmp_path: Path) -> None:
    seed(tmp_path)

    for agency in Agency.objects.filter(name__startswith="Synthetic Agency "):
        caseworker = (
            User.objects.filter(membership__agency=agency, membership__role=Role.CASEWORKER)
            .order_by("username")
            .first()
        )
        led = set(Case.objects.filter(lead_agency=agency).values_list("pk", flat=True))
        taken_on = set(
            Referral.objects.filter(
                to_agency=agency, status__in=[ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED]
            ).values_list("case_id", flat=True)
        )
        visible = set(
            Case.objects.visible_to(caseworker, "casework.view_case").values_list("pk", flat=True)
        )
        assert visible == led | taken_on, agency.name


def test_the_same_seed_after_a_reset_gives_the_same_data_and_demo_data_is_untouched(
    tmp_path: Path,
) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    demo = {
        model: set(model.objects.values_list("pk", flat=True))
        for model in (Agency, Group, User, Case, Referral, Need, Consent, CaseAgencyGrant,
                      AuditEvent)
    }  # fmt: skip
    assert demo[Case] and demo[Agency] and demo[AuditEvent]

    first = seed(tmp_path)
    counts, data = synthetic_counts(), fingerprint()
    chain.seal()  # as beat would: the synthetic rows are in the audit chain
    assert chain.verify().ok
    with pytest.raises(CommandError, match="--reset"):
        seed(tmp_path)
    with pytest.raises(CommandError, match="--agencies"):  # refused before deleting anything
        seed(tmp_path, reset=True, agencies=1)
    assert synthetic_counts() == counts

    second = seed(tmp_path, reset=True)
    assert synthetic_counts() == counts
    assert fingerprint() == data
    assert first["bench_users"] == second["bench_users"]
    assert first["counts"] == second["counts"]

    seed(tmp_path, reset_only=True)
    assert set(synthetic_counts().values()) == {0}
    for model, pks in demo.items():
        assert pks <= set(model.objects.values_list("pk", flat=True)), model.__name__
    # What the resets removed is on the record.
    assert AuditEvent.objects.filter(action="bench.synthetic_reset").count() == 2
    # Sealed rows went with the data: the rest is chained again from the start, intact.
    chain.seal()
    verdict = chain.verify()
    assert verdict.ok and verdict.checked == AuditEvent.objects.count()


def test_a_different_seed_gives_different_data(tmp_path: Path) -> None:
    seed(tmp_path)
    data = fingerprint()
    seed(tmp_path, reset=True, seed=8)
    assert fingerprint() != data


def test_refuses_to_run_in_production(tmp_path: Path, settings: Any) -> None:
    settings.IS_PRODUCTION = True
    with pytest.raises(CommandError, match="CONCORD_ENV=production"):
        seed(tmp_path)
    assert not Case.objects.filter(**SYN).exists()
