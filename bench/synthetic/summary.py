"""Who sees how much of the synthetic caseload, and which users the benchmark should use.

The benchmark wants users who see about 10 cases, 1 % of cases, 20 % of cases and 20,000
cases. An agency's users see what its group holds ``view_case`` grants on, so the
choice is made per agency (a caseworker of the agency whose count is nearest the target
on a log scale) and then checked through ``Case.objects.visible_to``, the same scoping
the pages and the API use.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from django.db import connection
from django.db.models import Count
from django.utils import timezone

from agencies import access
from agencies.models import Agency, Membership, Role, User
from casework.models import Case, CaseAgencyGrant
from casework.permissions import VIEW_CASE

from . import vocab


def targets(total_cases: int) -> dict[str, int]:
    return {
        "sees_10": 10,
        "sees_1pct": max(1, round(total_cases * 0.01)),
        "sees_20pct": max(1, round(total_cases * 0.20)),
        "sees_20000": 20_000,
    }


def visible_by_agency() -> dict[int, int]:
    """Cases each synthetic agency's group holds a live ``view_case`` grant on."""
    grants = CaseAgencyGrant._meta.db_table
    agencies = Agency._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.id, count(DISTINCT g.content_object_id)
            FROM {agencies} a
            LEFT JOIN {grants} g
              ON g.group_id = a.group_id
             AND g.permission_id = %s
             AND (g.expires_at IS NULL OR g.expires_at > %s)
            WHERE a.name LIKE %s
            GROUP BY a.id
            """,  # noqa: S608 - table names from the models' metadata
            [access.permission_id(VIEW_CASE, Case), timezone.now(), vocab.AGENCY_PREFIX + "%"],
        )
        return dict(cursor.fetchall())


def build(*, total_cases: int, extra: dict[str, Any]) -> dict[str, Any]:
    visible = visible_by_agency()
    agencies = {a.pk: a for a in Agency.objects.filter(pk__in=visible)}
    led = dict(
        Case.objects.filter(lead_agency_id__in=visible)
        .values("lead_agency_id")
        .annotate(n=Count("id"))
        .values_list("lead_agency_id", "n")
    )
    members = Membership.objects.filter(agency_id__in=visible).select_related("user")
    staff: dict[int, list[Membership]] = {}
    for membership in members.order_by("user__username"):
        staff.setdefault(membership.agency_id, []).append(membership)

    rows = []
    for agency_id, count in sorted(visible.items(), key=lambda item: (-item[1], item[0])):
        agency = agencies[agency_id]
        rows.append(
            {
                "agency": agency.name,
                "kind": agency.kind,
                "users": len(staff.get(agency_id, [])),
                "led_cases": led.get(agency_id, 0),
                "visible_cases": count,
            }
        )

    picked: dict[str, dict[str, Any]] = {}
    for key, target in targets(total_cases).items():
        candidates = [
            (abs(math.log(count) - math.log(target)), agencies[agency_id].name, agency_id)
            for agency_id, count in visible.items()
            if count > 0 and any(m.role == Role.CASEWORKER for m in staff.get(agency_id, []))
        ]
        if not candidates:
            continue
        _, _, agency_id = min(candidates)
        membership = next(m for m in staff[agency_id] if m.role == Role.CASEWORKER)
        user = User.objects.select_related("membership__agency").get(pk=membership.user_id)
        picked[key] = {
            "username": user.username,
            "agency": agencies[agency_id].name,
            "role": membership.role,
            "target": target,
            "visible_cases": Case.objects.visible_to(user, VIEW_CASE).count(),
        }

    return {
        **extra,
        "generated_at": timezone.now().isoformat(),
        "total_cases": total_cases,
        "bench_users": {key: value["username"] for key, value in picked.items()},
        "users": picked,
        "agencies": rows,
    }


def write(summary: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n")


def lines(summary: dict[str, Any]) -> list[str]:
    out = ["Users for the benchmark (cases visible through grants, via visible_to):"]
    for key, user in summary["users"].items():
        out.append(
            f"  {key:<11} {user['username']:<11} {user['agency']:<22} "
            f"{user['visible_cases']:>8,} visible (target {user['target']:,})"
        )
    top = summary["agencies"]
    out.append(
        "Agencies by cases visible: "
        + ", ".join(
            f"{a['agency'].removeprefix(vocab.AGENCY_PREFIX)}={a['visible_cases']:,}" for a in top
        )
    )
    return out
