"""The access engine: role capabilities x object grants.

Two layers, and both must allow (DESIGN.md, "The access model"):

1. **Capability** — what a role may ever hold, declared as data in each app's
   ``permissions.py`` (``CAPABILITIES = {"app.codename": {roles...}}``).
2. **Grant** — which records: rows in a registered model's direct foreign-key grant
   tables, to the user's agency group or to the user, each with a reason and an
   optional expiry.

Nothing here is cached across requests, so a change of membership, role or grant
applies on the very next request. Scoping is one SQL query: two subqueries over the grant
tables.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import (
    FieldDoesNotExist,
    ImproperlyConfigured,
    PermissionDenied,
    ValidationError,
)
from django.db import models, transaction
from django.db.models.signals import post_migrate
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import actions
from audit.record import record

from .models import AgencyGrant, Membership, Role, UserGrant

if TYPE_CHECKING:
    from .models import Agency

M = TypeVar("M", bound=models.Model)


# --- Registry ------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    model: type[models.Model]
    agency_grants: type[AgencyGrant]
    user_grants: type[UserGrant]


_registry: dict[type[models.Model], Registration] = {}


def register(
    model: type[models.Model], *, agency_grants: type[AgencyGrant], user_grants: type[UserGrant]
) -> None:
    """Put ``model`` under the engine. Call from the owning app's ``AppConfig.ready``."""
    for table in (agency_grants, user_grants):
        target = table._meta.get_field("content_object").related_model
        if target is not model:
            raise ImproperlyConfigured(
                f"{table.__name__}.content_object must point at {model.__name__}."
            )
    _registry[model] = Registration(model, agency_grants, user_grants)


def registration_for(model: type[models.Model]) -> Registration:
    concrete = model._meta.concrete_model
    try:
        return _registry[concrete]  # type: ignore[index]
    except KeyError:
        raise ImproperlyConfigured(
            f"{model.__name__} is not registered with the access engine."
        ) from None


def registrations() -> list[Registration]:
    return list(_registry.values())


# --- Capabilities (layer 1) ----------------------------------------------------------


@functools.cache
def capabilities() -> dict[str, frozenset[str]]:
    """Every declared capability: permission name → roles that may ever hold it."""
    declared: dict[str, frozenset[str]] = {}
    for app_config in apps.get_app_configs():
        try:
            module = importlib.import_module(f"{app_config.name}.permissions")
        except ModuleNotFoundError as error:
            if error.name != f"{app_config.name}.permissions":
                raise
            continue
        for perm, roles in getattr(module, "CAPABILITIES", {}).items():
            unknown = set(roles) - set(Role.values)
            if unknown:
                raise ImproperlyConfigured(f"{perm}: unknown roles {sorted(unknown)}")
            if perm in declared:
                raise ImproperlyConfigured(f"{perm} is declared twice")
            declared[perm] = frozenset(roles)
    return declared


def declared(perm: str) -> frozenset[str]:
    """The roles that may ever hold ``perm``; a name no app declared raises.

    A typo in a permission name must fail loudly in the first test that reaches it, not
    deny quietly in production (issue 14): use the constants of each app's
    ``permissions.py`` (``casework.permissions.VIEW_CASE``), never string copies.
    """
    try:
        return capabilities()[perm]
    except KeyError:
        raise ImproperlyConfigured(
            f"{perm!r} is not a declared permission: declare it in its app's permissions.py "
            "or use that module's constant."
        ) from None


def role_may(role: str | None, perm: str) -> bool:
    """Layer 1 alone: may this role ever hold ``perm``? An undeclared name raises."""
    roles = declared(perm)
    return role is not None and role in roles


def is_superuser(user: Any) -> bool:
    """An active, signed-in superuser: unscoped everywhere (the admin's people)."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_superuser)


def active_membership(user: Any) -> Membership | None:
    """The membership that lets this user act now, or None (inactive user or agency)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    membership: Membership | None = getattr(user, "membership", None)
    if membership is None or not membership.agency.active:
        return None
    return membership


def require_membership(user: Any) -> Membership:
    """The user's active membership, or PermissionDenied (for services acting as an agency)."""
    membership = active_membership(user)
    if membership is None:
        raise PermissionDenied(_("Only members of an active agency may do this."))
    return membership


def user_may(user: Any, perm: str) -> bool:
    """Role capability for actions not tied to one record (e.g. manage agency users)."""
    membership = active_membership(user)
    return membership is not None and role_may(membership.role, perm)


# --- Permission rows ------------------------------------------------------------------

_permission_ids: dict[str, int] = {}


def _clear_permission_cache(**kwargs: Any) -> None:
    # Ids change when a test database is flushed and permissions are recreated.
    _permission_ids.clear()


post_migrate.connect(_clear_permission_cache, dispatch_uid="access_clear_permission_cache")


def _split(perm: str) -> tuple[str, str]:
    app_label, _, codename = perm.partition(".")
    if not codename:
        raise ValueError(f"Permissions are named 'app_label.codename', not {perm!r}")
    return app_label, codename


def permission_id(perm: str, model: type[models.Model]) -> int:
    """The id of ``perm``, which must be a permission of ``model`` (guardian's rule)."""
    key = f"{model._meta.label_lower}:{perm}"
    if key not in _permission_ids:
        app_label, codename = _split(perm)
        content_type = ContentType.objects.get_for_model(model)
        try:
            _permission_ids[key] = (
                Permission.objects.only("pk")
                .get(
                    content_type=content_type, codename=codename, content_type__app_label=app_label
                )
                .pk
            )
        except Permission.DoesNotExist:
            raise ImproperlyConfigured(f"{perm} is not a permission of {model.__name__}") from None
    return _permission_ids[key]


def _live(now: datetime) -> models.Q:
    return models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)


# --- Scoping (both layers) -----------------------------------------------------------


# Personal (user) grants are rare: break-glass, an individual share. A user who holds none
# on a model is scoped by the agency grants alone, a plain semi-join that PostgreSQL plans
# from the grant table's statistics (issue 5: 0.7 ms for a user who sees 20,000 cases, 0.6
# ms for one who sees 10). Whether a user holds any is loaded with the user, in the same
# query, at the start of each request (``MembershipBackend.get_user``).
PERSONAL_GRANTS = "_concord_personal_grants"


def personal_grant_annotations() -> dict[str, models.Exists]:
    """One EXISTS per registered model: does the user hold a live personal grant on it?"""
    live = _live(timezone.now())
    return {
        _personal_key(registration): models.Exists(
            registration.user_grants.objects.filter(live, user_id=models.OuterRef("pk"))
        )
        for registration in registrations()
    }


def remember_personal_grants(user: Any) -> Any:
    """Turn ``personal_grant_annotations`` on a loaded user into the set ``granted`` reads."""
    setattr(
        user,
        PERSONAL_GRANTS,
        frozenset(
            registration.model
            for registration in registrations()
            if getattr(user, _personal_key(registration), True)
        ),
    )
    return user


def _personal_key(registration: Registration) -> str:
    return "holds_personal_" + registration.model._meta.label_lower.replace(".", "_")


@dataclass(frozen=True)
class Granted:
    """The live grants of one permission that reach a user: through their agency's group,
    and to them alone (None when the user is known to hold no personal grant on the model).

    Each is a subquery of ``content_object_id`` answered by an index-only scan of the grant
    table's unique index, which leads with (group or user, permission, object) and carries
    ``expires_at``.
    """

    by_agency: models.QuerySet[Any]
    by_user: models.QuerySet[Any] | None

    def q(self) -> models.Q:
        """``pk IN (agency grants)``, ``OR pk IN (user grants)`` when there may be some.

        Measured in issue 5 against ``pk IN (agency UNION ALL user)``: the planner cannot
        estimate how many ids a UNION yields, takes 200, and for a user who sees 20,000
        cases joins and sorts all of them (74 ms); the OR runs both as hashed subplans
        (9 ms), and the agency grants alone as a semi-join (0.7 ms).
        """
        q = models.Q(pk__in=self.by_agency)
        if self.by_user is not None:
            q |= models.Q(pk__in=self.by_user)
        return q

    def count(self, using: str) -> int:
        """How many distinct objects the grants reach, read from the grant index alone.

        Every grant points at an existing row (a foreign key with CASCADE), so this is the
        count of the unfiltered scoped queryset, without reading the model's table.
        """
        if self.by_user is None:
            # DISTINCT over the index's order: a streaming Unique, no hash or sort.
            return self.by_agency.order_by().distinct().using(using).count()
        return self.by_agency.union(self.by_user).using(using).count()


def granted(model: type[models.Model], user: Any, perm: str) -> Granted | None:
    """The live grants of ``perm`` on ``model`` rows that reach ``user``.

    None when the capability layer already refuses (no membership, role lacks it).
    """
    membership = active_membership(user)
    if membership is None or not role_may(membership.role, perm):
        return None
    registration = registration_for(model)
    pid = permission_id(perm, registration.model)
    live = _live(timezone.now())
    personal = getattr(user, PERSONAL_GRANTS, None)
    return Granted(
        by_agency=registration.agency_grants.objects.filter(
            live, group_id=membership.agency.group_id, permission_id=pid
        ).values("content_object_id"),
        by_user=registration.user_grants.objects.filter(
            live, user_id=user.pk, permission_id=pid
        ).values("content_object_id")
        if personal is None or registration.model in personal
        else None,
    )


def scope(queryset: models.QuerySet[M], user: Any, perm: str) -> models.QuerySet[M]:
    """``queryset`` narrowed to the rows ``user`` may ``perm``, in one SQL query."""
    if is_superuser(user):
        return queryset
    grants = granted(queryset.model, user, perm)
    if grants is None:
        return queryset.none()
    # Only a scope applied to the whole table may later be counted from the grants alone.
    unfiltered = not queryset.query.where and getattr(queryset, "_deferred_filter", None) is None
    scoped = queryset.filter(grants.q())
    if unfiltered and isinstance(scoped, ScopedQuerySet):
        scoped._granted = grants
    return scoped


class ScopedQuerySet(models.QuerySet[M]):
    """Base QuerySet of every registered model: ``Model.objects.visible_to(user, perm)``.

    ``count()`` of a scoped queryset with no other filter (a list's usual first view)
    counts the distinct granted ids from the grant index instead of joining the model's
    table: for a user who sees 20,000 of 100,000 cases, 4 ms instead of 40 ms (issue 5).
    Any further filter, slice, DISTINCT, GROUP BY or set operation falls back to
    Django's own count.
    """

    _granted: Granted | None = None

    def visible_to(self, user: Any, perm: str) -> ScopedQuerySet[M]:
        return scope(self, user, perm)  # type: ignore[return-value]

    def _clone(self) -> ScopedQuerySet[M]:
        clone = super()._clone()  # type: ignore[misc]
        clone._granted = self._granted
        return clone

    def _only_scoped(self) -> bool:
        query = self.query
        return (
            self._granted is not None
            and len(query.where.children) == 1
            and query.where.connector == models.Q.AND
            and not query.where.negated
            and not query.distinct
            and not query.is_sliced
            and not query.combinator
            and query.group_by is None
            and getattr(self, "_deferred_filter", None) is None
        )

    def count(self) -> int:
        if self._result_cache is None and self._only_scoped():
            assert self._granted is not None
            return self._granted.count(self.db)
        return super().count()


def can(user: Any, perm: str, obj: models.Model) -> bool:
    """May ``user`` ``perm`` this one object? One query (none when the role refuses)."""
    if is_superuser(user):
        return True
    grants = granted(type(obj), user, perm)
    if grants is None:
        return False
    return type(obj)._default_manager.filter(grants.q(), pk=obj.pk).exists()


def agency_can(user: Any, perm: str, obj: models.Model) -> bool:
    """May ``user`` ``perm`` this object through their *agency's* grants alone?

    For acts that reach other agencies on the agency's behalf (recording a justice
    outcome, filing a case to prosecutors): a personal grant (break-glass, an approved
    evidence request) lets one person read for a while, and must never become the basis
    of a lasting grant to another agency (issue 14 review).
    """
    if is_superuser(user):
        return True
    grants = granted(type(obj), user, perm)
    if grants is None:
        return False
    return type(obj)._default_manager.filter(pk__in=grants.by_agency, pk=obj.pk).exists()


def perms_for(user: Any, obj: models.Model) -> frozenset[str]:
    """Every permission ``user`` holds on ``obj`` now, loaded at once for a whole page.

    A superuser holds every declared permission, as ``scope`` and ``can`` let them
    through, so callers never special-case them.
    """
    if is_superuser(user):
        return frozenset(capabilities())
    membership = active_membership(user)
    if membership is None:
        return frozenset()
    registration = registration_for(type(obj))
    live = _live(timezone.now())
    rows = registration.agency_grants.objects.filter(
        live, group_id=membership.agency.group_id, content_object_id=obj.pk
    ).values_list("permission__content_type__app_label", "permission__codename")
    rows = rows.union(
        registration.user_grants.objects.filter(
            live, user_id=user.pk, content_object_id=obj.pk
        ).values_list("permission__content_type__app_label", "permission__codename")
    )
    held = {f"{app_label}.{codename}" for app_label, codename in rows}
    # A grant row of a permission no app declares now (a capability since removed) is
    # held by nobody: it must not turn every read of the record into an error.
    declared_now = capabilities()
    return frozenset(
        perm for perm in held if perm in declared_now and role_may(membership.role, perm)
    )


def visible(queryset: models.QuerySet[M], user: Any, perm: str) -> models.QuerySet[M]:
    """``queryset`` narrowed by its model's one scoping entry point,
    ``Model.objects.visible_to(user, perm)`` (grants for registered models, the model's
    own rule for agency-scoped ones such as referrals or intelligence)."""
    visible_to = getattr(queryset, "visible_to", None)
    if visible_to is None:
        raise ImproperlyConfigured(
            f"{queryset.model.__name__}'s QuerySet has no visible_to(user, perm)."
        )
    scoped: models.QuerySet[M] = visible_to(user, perm)
    return scoped


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
    record(actions.ACCESS_DENIED, actor=actor, target=target, detail={"permission": perm})


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


# --- Grants --------------------------------------------------------------------------


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
        "content_object_id": obj.pk,
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
        table.objects.bulk_create(rows, ignore_conflicts=True)  # type: ignore[attr-defined]
        created = _count(table, obj, reason_type, reason_id) - before
        record(
            actions.GRANT_CREATED,
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
        content_object_id=obj.pk, reason_type=reason_type, reason_id=reason_id
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
                affected = sorted(set(doomed.values_list("content_object_id", flat=True)))
                if not affected:
                    continue
                count, _ = doomed.delete()
                removed += count
                for target in registration.model._default_manager.filter(pk__in=affected):
                    record(
                        actions.GRANT_REVOKED,
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
    if agency is not None:
        doomed = registration.agency_grants.objects.filter(group_id=agency.group_id)
    else:
        doomed = registration.user_grants.objects.filter(user_id=user.pk)  # type: ignore[assignment]
    doomed = doomed.filter(content_object_id=obj.pk)
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
                actions.GRANT_REVOKED,
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


# --- Explaining ----------------------------------------------------------------------


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
        rows = table.objects.filter(content_object_id=obj.pk).select_related(
            holder, "permission__content_type", "reason_type"
        )
        if not include_expired:
            rows = rows.filter(_live(now))
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
        p for p in capabilities() if _split(p)[0] == app_label and _split(p)[1] in own_perms
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
