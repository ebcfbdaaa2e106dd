"""One record by a lookup from a request: the door for every single-object read, page and
API alike. A record the user may not see is answered exactly as one that does not exist."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.http import Http404
from django.utils.translation import gettext as _

from audit.audit_actions import AuthAction
from audit.record import record

from .scoping import visible

M = TypeVar("M", bound=models.Model)


def get_visible_or_404(queryset: models.QuerySet[M], user: Any, perm: str, **lookup: Any) -> M:
    """Fetch one record the user may ``perm``; otherwise 404, as if it did not exist.

    The one door for every single-object read, page and API alike: scoping is the
    model's ``visible_to``; a lookup that is not even well formed (``"abc"`` for an id)
    is the same 404; when the record exists but is hidden, the attempt is audited
    (ASVS 16.3.2): the user learns nothing, the trail learns everything.
    """
    if not _lookup_is_valid(queryset, lookup):
        raise Http404
    found = visible(queryset, user, perm).filter(**lookup).first()
    if found is not None:
        return found
    hidden = queryset.model._default_manager.filter(**lookup).first()
    if hidden is not None:
        refuse(user, hidden, perm)
    raise Http404


def get_visible_or_400(
    queryset: models.QuerySet[M],
    user: Any,
    perm: str,
    *,
    field: str,
    pk: Any,
    message: str | None = None,
) -> M:
    """Resolve an id sent in a request body (a case to refer, an agency to transfer to).

    Like ``get_visible_or_404``, but the URL's resource exists and the input is what is
    wrong: a 400 field error, the same one whether the row does not exist, is hidden
    (audited) or the id is malformed, so the answer tells the caller nothing.
    """
    try:
        return get_visible_or_404(queryset, user, perm, pk=pk)
    except Http404:
        raise ValidationError(
            {
                field: message
                or _("There is no such %(thing)s.") % {"thing": queryset.model._meta.verbose_name}
            }
        ) from None


def refuse(user: Any, target: models.Model, perm: str) -> None:
    """Audit a refused attempt on ``target`` (an ``access.denied`` event); the caller then
    answers 404 exactly as for a record that does not exist."""
    actor = user if getattr(user, "is_authenticated", False) else None
    record(AuthAction.ACCESS_DENIED, actor=actor, target=target, detail={"permission": perm})


def _lookup_is_valid(queryset: models.QuerySet[Any], lookup: dict[str, Any]) -> bool:
    try:
        queryset.model._default_manager.filter(**lookup).query  # noqa: B018 - validates
    except (ValueError, TypeError, ValidationError):
        return False
    # Building the query does not convert values; an integer key is checked here
    # ("abc", "1.5", "²" or 10**30 would fail only when the query runs).
    for name, value in lookup.items():
        field_name = name.split("__")[0]
        if field_name == "pk":
            field = queryset.model._meta.pk
        else:
            try:
                field = queryset.model._meta.get_field(field_name)
            except FieldDoesNotExist:
                continue
        if "__" in name or not isinstance(
            field, models.AutoField | models.BigAutoField | models.IntegerField | models.ForeignKey
        ):
            continue
        if isinstance(value, models.Model):
            continue
        if not _is_id(value):
            return False
    return True


def _is_id(value: Any) -> bool:
    """An integer id PostgreSQL's bigint can hold, from a URL, a form or JSON."""
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()):
            return False
        value = int(value)
    return isinstance(value, int) and 0 <= value <= 2**63 - 1
