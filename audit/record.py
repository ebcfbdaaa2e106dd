"""The one way to write the audit trail."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.db import models

from .context import current
from .models import AuditEvent


def _request_user(request: Any) -> Any:
    # Only read a user the request has already loaded: touching a lazy request.user
    # here could query the database in the middle of a login.
    user = getattr(request, "user", None) if request is not None else None
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


class _Nobody:
    """``record(actor=NOBODY)``: no actor, even inside a request (an event written on
    another agency's record, whose trail must name the agency, not the person)."""

    def __repr__(self) -> str:
        return "NOBODY"


NOBODY: Any = _Nobody()


def record(
    action: StrEnum,
    *,
    actor: Any = None,
    target: models.Model | None = None,
    case_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. The actor defaults to the signed-in user of the current request.

    ``action`` is a member of the writing app's enum in its ``audit_actions.py`` (never a
    string: ``audit/tests/test_audit_action_names.py`` reads every call).

    ``detail`` must never carry a victim's personal data: ids, codes and reasons only.
    """
    context = current.get()
    if actor is NOBODY:
        actor = None
    elif actor is None:
        actor = _request_user(context.request)
    membership = getattr(actor, "membership", None) if actor is not None else None
    if case_id is None and target is not None:
        case_id = getattr(target, "audit_case_id", None)
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_agency_id=membership.agency_id if membership is not None else None,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        case_id=case_id,
        request_id=context.request_id,
        ip_address=context.ip_address,
        detail=detail or {},
    )
