"""Writes of the agencies app: agencies and the memberships agency admins manage."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from audit import actions
from audit.record import record

from . import access
from .models import (
    Agency,
    Membership,
    Role,
    User,
    role_fits_agency,
    role_mismatch_message,
    validate_country_code,
)
from .permissions import MANAGE_AGENCY_USERS


def agency_create(
    *,
    actor: Any,
    name: str,
    kind: str,
    country: str,
    region: str = "",
    is_first_responder: bool = False,
    intelligence_contact: str = "",
) -> Agency:
    """Create an agency with the group that will hold its object grants.

    Only superusers (the Django admin) and system jobs (``actor=None``: seeding) create
    agencies; agency admins manage people, not agencies.
    """
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only a system administrator may create agencies."))
    validate_country_code(country)
    with transaction.atomic():
        group = Group.objects.create(name=f"agency:{name}"[:150])
        agency = Agency(
            name=name,
            kind=kind,
            country=country,
            region=region,
            is_first_responder=is_first_responder,
            intelligence_contact=intelligence_contact,
            group=group,
        )
        agency.full_clean()
        agency.save()
        record(actions.AGENCY_CREATED, actor=actor, target=agency, detail={"kind": kind})
    return agency


def _require_admin_of(actor: Any, agency: Agency) -> None:
    """The rule for every membership change: a superuser, a system job (``actor=None``)
    or an agency admin of that same agency."""
    if actor is None or actor.is_superuser:
        return
    membership = access.active_membership(actor)
    if membership is None or not access.role_may(membership.role, MANAGE_AGENCY_USERS):
        raise PermissionDenied(_("Only an agency administrator may manage users."))
    if membership.agency_id != agency.pk:
        raise PermissionDenied(_("You may only manage the users of your own agency."))


def _check_role(role: str, agency: Agency) -> None:
    if role not in Role.values:
        raise ValidationError({"role": _("Choose one of the listed roles.")})
    if not role_fits_agency(role, agency.kind):
        raise ValidationError({"role": role_mismatch_message(role, agency.kind)})


def membership_create(
    *,
    actor: Any,
    agency: Agency,
    username: str,
    email: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
) -> Membership:
    """Create a user in ``agency`` with ``role``.

    Without a password the user is invited: the account has no usable password and an
    email with a one-time link to set one is sent after the transaction commits.
    """
    _require_admin_of(actor, agency)
    _check_role(role, agency)
    errors: dict[str, str] = {}
    username = username.strip()
    if not username:
        errors["username"] = _("Enter a username.")
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = _("That username is already taken.")
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = _("Enter a valid email address.")
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        user = User(username=username, email=email, first_name=first_name, last_name=last_name)
        if password:
            from django.contrib.auth.password_validation import validate_password

            try:
                validate_password(password, user)
            except ValidationError as error:
                raise ValidationError({"password": error.messages}) from None
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        membership = Membership.objects.create(user=user, agency=agency, role=role)
        record(
            actions.MEMBERSHIP_CREATED,
            actor=actor,
            target=membership,
            detail={
                "user_id": user.pk,
                "agency_id": agency.pk,
                "role": role,
                "invited": not password,
            },
        )
        if not password:
            from .tasks import send_invitation

            transaction.on_commit(lambda: send_invitation.delay(membership.pk))
    return membership


def membership_attach(*, actor: Any, user: User, agency: Agency, role: str) -> Membership:
    """Give an existing account (one without a membership) its agency and role.

    For system administrators in the Django admin; agency admins invite new users instead.
    """
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only a system administrator may attach an existing account."))
    _check_role(role, agency)
    if Membership.objects.filter(user=user).exists():
        raise ValidationError({"user": _("This account already belongs to an agency.")})
    with transaction.atomic():
        membership = Membership.objects.create(user=user, agency=agency, role=role)
        record(
            actions.MEMBERSHIP_CREATED,
            actor=actor,
            target=membership,
            detail={"user_id": user.pk, "agency_id": agency.pk, "role": role, "invited": False},
        )
    return membership


def membership_change_role(*, actor: Any, membership: Membership, role: str) -> Membership:
    """Change a member's role; effective on their very next request."""
    _require_admin_of(actor, membership.agency)
    _check_role(role, membership.agency)
    if actor is not None and actor.pk == membership.user_id:
        raise ValidationError(
            {"role": _("You cannot change your own role; ask another administrator.")}
        )
    if role == membership.role:
        return membership
    with transaction.atomic():
        previous = membership.role
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        record(
            actions.MEMBERSHIP_ROLE_CHANGED,
            actor=actor,
            target=membership,
            detail={"user_id": membership.user_id, "from": previous, "to": role},
        )
    return membership


def membership_deactivate(*, actor: Any, membership: Membership) -> Membership:
    """Stop a member from signing in. Their sessions end on the next request and their
    API tokens are deleted; their history (audit, authorship) stays."""
    _require_admin_of(actor, membership.agency)
    if actor is not None and actor.pk == membership.user_id:
        raise ValidationError(_("You cannot deactivate your own account."))
    with transaction.atomic():
        user = membership.user
        if not user.is_active:
            return membership
        user.is_active = False
        user.save(update_fields=["is_active"])
        from knox.models import AuthToken

        AuthToken.objects.filter(user=user).delete()
        record(
            actions.MEMBERSHIP_DEACTIVATED,
            actor=actor,
            target=membership,
            detail={"user_id": user.pk},
        )
    return membership


def membership_reactivate(*, actor: Any, membership: Membership) -> Membership:
    _require_admin_of(actor, membership.agency)
    with transaction.atomic():
        user = membership.user
        if user.is_active:
            return membership
        user.is_active = True
        user.save(update_fields=["is_active"])
        record(
            actions.MEMBERSHIP_REACTIVATED,
            actor=actor,
            target=membership,
            detail={"user_id": user.pk},
        )
    return membership
