"""Explaining access: who holds which grant on a record and why, what decides each
permission for one user, and the capability matrix for review with partners."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Role
from .capability import active_membership, capabilities, is_superuser, role_may
from .permission_rows import in_force, split_permission
from .registry import OBJECT_ID, registration_for


@dataclass(frozen=True)
class GrantInfo:
    """One grant row, in words: who holds which permission, why, and until when."""

    holder_kind: str  # "agency" or "user"
    holder_id: int
    holder_name: str
    permission: str
    reason_type: str
    reason_id: int
    reason: str
    expires_at: datetime | None
    granted_at: datetime
    live: bool


@dataclass(frozen=True)
class Decision:
    permission: str
    allowed: bool
    why: str
    grants: list[GrantInfo] = field(default_factory=list)


def grants_on(obj: models.Model, *, include_expired: bool = False) -> list[GrantInfo]:
    """Every grant on ``obj``: the answer to "who can see this and why"."""
    registration = registration_for(type(obj))
    now = timezone.now()
    collected: list[tuple[str, Any]] = []
    for kind, table, holder in (
        ("agency", registration.agency_grants, "group__agency"),
        ("user", registration.user_grants, "user"),
    ):
        rows = table.objects.filter(**{OBJECT_ID: obj.pk}).select_related(
            holder, "permission__content_type", "reason_type"
        )
        if not include_expired:
            rows = rows.filter(in_force(now))
        collected.extend((kind, row) for row in rows)

    reasons = _load_reasons(row for _, row in collected)
    infos = []
    for kind, row in collected:
        holder_obj = row.group.agency if kind == "agency" else row.user
        reason = reasons.get((row.reason_type_id, row.reason_id))
        infos.append(
            GrantInfo(
                holder_kind=kind,
                holder_id=holder_obj.pk,
                holder_name=str(holder_obj),
                permission=f"{row.permission.content_type.app_label}.{row.permission.codename}",
                reason_type=row.reason_type.model,
                reason_id=row.reason_id,
                reason=str(reason)
                if reason is not None
                else f"{row.reason_type.model} #{row.reason_id}",
                expires_at=row.expires_at,
                granted_at=row.granted_at,
                live=row.expires_at is None or row.expires_at > now,
            )
        )
    return sorted(infos, key=lambda g: (g.holder_kind, g.holder_name, g.permission))


def _load_reasons(rows: Iterable[Any]) -> dict[tuple[int, int], models.Model]:
    wanted: dict[int, set[int]] = {}
    for row in rows:
        wanted.setdefault(row.reason_type_id, set()).add(row.reason_id)
    loaded: dict[tuple[int, int], models.Model] = {}
    for type_id, ids in wanted.items():
        model = ContentType.objects.get_for_id(type_id).model_class()
        if model is None:
            continue
        for pk, reason in model._default_manager.in_bulk(list(ids)).items():
            loaded[(type_id, pk)] = reason
    return loaded


def explain(user: Any, obj: models.Model) -> list[Decision]:
    """For each capability declared on ``obj``'s model: allowed or not, and what decides it."""
    registration = registration_for(type(obj))
    app_label = registration.model._meta.app_label
    own_perms = set(
        Permission.objects.filter(
            content_type=ContentType.objects.get_for_model(registration.model)
        ).values_list("codename", flat=True)
    )
    perms = sorted(
        p
        for p in capabilities()
        if split_permission(p)[0] == app_label and split_permission(p)[1] in own_perms
    )
    membership = active_membership(user)
    all_grants = grants_on(obj)
    decisions = []
    for perm in perms:
        if is_superuser(user):
            decisions.append(Decision(perm, True, "superuser: unscoped"))
            continue
        if membership is None:
            decisions.append(Decision(perm, False, "no active membership of an active agency"))
            continue
        if not role_may(membership.role, perm):
            decisions.append(
                Decision(perm, False, f"the role {membership.get_role_display()} may never hold it")
            )
            continue
        mine = [
            g
            for g in all_grants
            if g.permission == perm
            and (
                (g.holder_kind == "agency" and g.holder_id == membership.agency_id)
                or (g.holder_kind == "user" and g.holder_id == user.pk)
            )
        ]
        if mine:
            reasons = "; ".join(f"{g.holder_kind} grant for {g.reason}" for g in mine)
            decisions.append(Decision(perm, True, reasons, mine))
        else:
            decisions.append(
                Decision(perm, False, f"no grant to {membership.agency} or to this user")
            )
    return decisions


def capability_matrix_markdown() -> str:
    """The whole capability matrix as one Markdown table, for review with partners."""
    roles = list(Role)
    header = "| permission | " + " | ".join(str(role.label) for role in roles) + " |"
    rule = "| --- |" + " :-: |" * len(roles)
    lines = [header, rule]
    for perm, holders in sorted(capabilities().items()):
        cells = " | ".join("✓" if role.value in holders else "" for role in roles)
        lines.append(f"| `{perm}` | {cells} |")
    lines.append("")
    lines.append(
        _(
            "A tick says a role may ever hold the permission; a record is reached only through "
            "a grant to the user's agency or to the user."
        )
    )
    return "\n".join(lines) + "\n"
