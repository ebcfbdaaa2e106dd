"""Layer 2, grants: which records, to an agency's group or to one user, each for a reason
and with an optional expiry. Every change is audited."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from audit.record import record

from ..audit_actions import AgencyAction
from .capability import declared
from .permission_rows import permission_id
from .registry import OBJECT_ID, registration_for, registrations
from .scoping import PERSONAL_GRANTS

if TYPE_CHECKING:
    from ..models import Agency, AgencyGrant, UserGrant


def _reason_key(reason: models.Model) -> tuple[ContentType, int]:
    if reason.pk is None:
        raise ValueError("A grant's reason must be a saved record.")
    return ContentType.objects.get_for_model(reason), int(reason.pk)


def _describe(reason: models.Model) -> dict[str, Any]:
    return {"reason_type": reason._meta.label_lower, "reason_id": reason.pk}


def grant(
    *,
    actor: Any,
    obj: models.Model,
    perms: Iterable[str],
    reason: models.Model,
    agency: Agency | None = None,
    user: Any = None,
    expires_at: datetime | None = None,
) -> int:
    """Grant ``perms`` on ``obj`` to an agency (its group) or to one user, because of ``reason``.

    Idempotent: granting again for the same reason adds nothing. Audited. Returns the
    number of new grant rows.
    """
    if (agency is None) == (user is None):
        raise ValueError("Grant to exactly one of an agency or a user.")
    if user is not None:
        # That user object's snapshot of "holds no personal grant" is now out of date.
        user.__dict__.pop(PERSONAL_GRANTS, None)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "A grant cannot expire in the past."})
    perms = sorted(set(perms))
    for perm in perms:
        declared(perm)  # a grant of a name no app declares raises, like every other use
    registration = registration_for(type(obj))
    reason_type, reason_id = _reason_key(reason)
    common = {
        OBJECT_ID: obj.pk,
        "reason_type": reason_type,
        "reason_id": reason_id,
        "expires_at": expires_at,
        "granted_by": actor if getattr(actor, "is_authenticated", False) else None,
    }
    with transaction.atomic():
        if agency is not None:
            rows: list[Any] = [
                registration.agency_grants(
                    group_id=agency.group_id,
                    permission_id=permission_id(p, registration.model),
                    **common,
                )
                for p in perms
            ]
            table: type[models.Model] = registration.agency_grants
        else:
            rows = [
                registration.user_grants(
                    user_id=user.pk, permission_id=permission_id(p, registration.model), **common
                )
                for p in perms
            ]
            table = registration.user_grants
        before = _count(table, obj, reason_type, reason_id)
        table._default_manager.bulk_create(rows, ignore_conflicts=True)
        created = _count(table, obj, reason_type, reason_id) - before
        record(
            AgencyAction.GRANT_CREATED,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            target=obj,
            detail={
                "permissions": perms,
                "agency_id": agency.pk if agency is not None else None,
                "user_id": user.pk if user is not None else None,
                "expires_at": expires_at.isoformat() if expires_at else None,
                "created": created,
                **_describe(reason),
            },
        )
    return created


def _count(
    table: type[models.Model], obj: models.Model, reason_type: ContentType, reason_id: int
) -> int:
    return table._default_manager.filter(
        **{OBJECT_ID: obj.pk}, reason_type=reason_type, reason_id=reason_id
    ).count()


def revoke_for_reason(*, actor: Any, reason: models.Model) -> int:
    """Remove every grant, on any registered model, that exists because of ``reason``.

    Called in the same transaction as the withdrawal of the reason itself (a consent
    withdrawn, a referral completed...). Audited once per object that lost grants.
    """
    reason_type, reason_id = _reason_key(reason)
    removed = 0
    with transaction.atomic():
        for registration in registrations():
            for table in (registration.agency_grants, registration.user_grants):
                doomed = table.objects.filter(reason_type=reason_type, reason_id=reason_id)
                affected = sorted(set(doomed.values_list(OBJECT_ID, flat=True)))
                if not affected:
                    continue
                count, _ = doomed.delete()
                removed += count
                for target in registration.model._default_manager.filter(pk__in=affected):
                    record(
                        AgencyAction.GRANT_REVOKED,
                        actor=actor if getattr(actor, "is_authenticated", False) else None,
                        target=target,
                        detail={"table": table._meta.label_lower, **_describe(reason)},
                    )
    return removed


def revoke(
    *,
    actor: Any,
    obj: models.Model,
    agency: Agency | None = None,
    user: Any = None,
    perms: Iterable[str] | None = None,
    reason: models.Model | None = None,
) -> int:
    """Remove grants on ``obj`` held by an agency or a user, narrowed by perms and reason."""
    if (agency is None) == (user is None):
        raise ValueError("Revoke from exactly one of an agency or a user.")
    registration = registration_for(type(obj))
    doomed: models.QuerySet[AgencyGrant] | models.QuerySet[UserGrant]
    if agency is not None:
        doomed = registration.agency_grants.objects.filter(group_id=agency.group_id)
    else:
        doomed = registration.user_grants.objects.filter(user_id=user.pk)
    doomed = doomed.filter(**{OBJECT_ID: obj.pk})
    if perms is not None:
        doomed = doomed.filter(
            permission_id__in=[permission_id(p, registration.model) for p in perms]
        )
    if reason is not None:
        reason_type, reason_id = _reason_key(reason)
        doomed = doomed.filter(reason_type=reason_type, reason_id=reason_id)
    with transaction.atomic():
        count, _ = doomed.delete()
        if count:
            record(
                AgencyAction.GRANT_REVOKED,
                actor=actor if getattr(actor, "is_authenticated", False) else None,
                target=obj,
                detail={
                    "agency_id": agency.pk if agency is not None else None,
                    "user_id": user.pk if user is not None else None,
                    "permissions": sorted(perms) if perms is not None else None,
                    "removed": count,
                    **(_describe(reason) if reason is not None else {}),
                },
            )
    return count
