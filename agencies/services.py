"""Writes of the agencies app: agencies and the memberships agency admins manage."""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import get_connection, send_mail
from django.core.validators import validate_email
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from audit.audit_actions import AuthAction
from audit.record import record
from core import background

from . import access
from .audit_actions import AgencyAction
from .models import (
    Agency,
    Invitation,
    Membership,
    Role,
    User,
    role_fits_agency,
    role_mismatch_message,
    validate_country_code,
)
from .permissions import MANAGE_AGENCY_USERS

logger = logging.getLogger(__name__)


def agency_create(
    *,
    actor: Any,
    name: str,
    kind: str,
    country: str,
    subdivision: str = "",
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
            subdivision=subdivision,
            region=region,
            is_first_responder=is_first_responder,
            intelligence_contact=intelligence_contact,
            group=group,
        )
        agency.full_clean()
        agency.save()
        record(AgencyAction.CREATED, actor=actor, target=agency, detail={"kind": kind})
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


def _require_manager_of(actor: Any, membership: Membership) -> None:
    """``_require_admin_of`` the member's agency, and: a member who is also a system
    administrator (superuser or staff) is managed by superusers alone. An agency admin
    who could reset a superuser's second factors could take the account over."""
    _require_admin_of(actor, membership.agency)
    target = membership.user
    if (target.is_superuser or target.is_staff) and not (actor is None or actor.is_superuser):
        raise PermissionDenied(
            _("Only a system administrator may change a system administrator's account.")
        )


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
            AgencyAction.MEMBERSHIP_CREATED,
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

            # The invitation is a row of its own, committed with the member: the publish
            # below is only a nudge, and beat sends any invitation it did not start.
            invitation = Invitation.objects.create(membership=membership)
            background.publish_on_commit(send_invitation, invitation.pk)
    return membership


# --- Invitations (sent by agencies.tasks.send_invitation) -------------------------------

# An invitation not done this long after it was written has lost its task (the broker was
# down, a process died); a claim older than the lease belongs to a dead worker.
INVITATION_GRACE = timedelta(seconds=30)
INVITATION_CLAIM_LEASE = timedelta(minutes=5)
# After this many failed sends (a mail server refusing the address), beat stops trying and
# says so in the log.
INVITATION_MAX_ATTEMPTS = 50


def _send_invitation_email(membership: Membership) -> None:
    user = membership.user
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    send_mail(
        subject="You have been invited to Concord",
        message=(
            f"{membership.agency.name} has given you an account on Concord.\n\n"
            f"Your username is {user.username}. Choose your password here:\n"
            f"{settings.CONCORD_BASE_URL}{path}\n\n"
            "The link works once. If you were not expecting this, ignore this email."
        ),
        from_email=None,
        recipient_list=[user.email],
        connection=get_connection(timeout=60),
    )


def invitation_send(*, invitation_id: int) -> bool:
    """Email a new member a link to choose their password; True if this call sent it.

    Safe to run twice or at the same time: the invitation is claimed with one conditional
    UPDATE (not done, and unclaimed or claimed longer ago than the lease), so only one
    worker sends it, and it is marked done after the send. A member who has chosen a
    password or was deactivated since is owed nothing: the invitation is marked done
    without an email. A failed send releases the claim and raises; beat tries again.
    A worker killed after the mail server took the email, before ``done_at`` was written,
    sends it once more after the lease (the second link is just as valid).
    """
    now = timezone.now()
    claimed = (
        Invitation.objects.filter(pk=invitation_id, done_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - INVITATION_CLAIM_LEASE))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False  # done already, gone, or another worker holds a live claim
    try:
        invitation = Invitation.objects.select_related(
            "membership__user", "membership__agency"
        ).get(pk=invitation_id)
        user = invitation.membership.user
        owed = user.is_active and not user.has_usable_password()
        if owed:
            _send_invitation_email(invitation.membership)
        Invitation.objects.filter(pk=invitation_id).update(done_at=timezone.now())
    except Exception:
        with suppress(DatabaseError):
            Invitation.objects.filter(pk=invitation_id, claimed_at=now).update(claimed_at=None)
        raise
    return owed


def invitations_to_requeue(*, limit: int = 500) -> list[int]:
    """Ids of invitations whose task is presumed lost: not done INVITATION_GRACE after
    they were written, unclaimed or claimed longer ago than the lease (oldest first, at
    most ``limit``). Those failed INVITATION_MAX_ATTEMPTS times are left, and logged."""
    now = timezone.now()
    pending = Invitation.objects.filter(done_at__isnull=True)
    stuck = pending.filter(attempts__gte=INVITATION_MAX_ATTEMPTS).count()
    if stuck:
        logger.error(
            "%d invitations were not sent after %d attempts.", stuck, INVITATION_MAX_ATTEMPTS
        )
    return list(
        pending.filter(created_at__lt=now - INVITATION_GRACE, attempts__lt=INVITATION_MAX_ATTEMPTS)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - INVITATION_CLAIM_LEASE))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


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
            AgencyAction.MEMBERSHIP_CREATED,
            actor=actor,
            target=membership,
            detail={"user_id": user.pk, "agency_id": agency.pk, "role": role, "invited": False},
        )
    return membership


def sign_ins_end(*, actor: Any, user: User, reason: str, request: Any = None) -> int:
    """End every browser session and API token of ``user``, because trust in them ended
    (a password changed or reset, a deactivation, a role change): sessions stop verifying
    on their next request (``User.credentials_epoch``), tokens are deleted. With
    ``request`` (the user changing their own password), that request's own session is
    kept. Audited; returns how many tokens were deleted."""
    from django.contrib.auth import update_session_auth_hash
    from django.db.models import F
    from knox.models import AuthToken

    tokens: int  # knox ships no types; QuerySet.delete() counts the rows it deleted
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(credentials_epoch=F("credentials_epoch") + 1)
        user.refresh_from_db(fields=["credentials_epoch"])
        tokens, _deleted = AuthToken.objects.filter(user_id=user.pk).delete()
        record(
            AuthAction.SIGN_INS_ENDED,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            target=user,
            detail={"reason": reason, "tokens_deleted": tokens},
        )
    signed_in_as = getattr(getattr(request, "user", None), "pk", None)
    if request is not None and signed_in_as == user.pk:
        update_session_auth_hash(request, user)
    return tokens


def membership_change_role(*, actor: Any, membership: Membership, role: str) -> Membership:
    """Change a member's role; effective on their very next request."""
    _require_manager_of(actor, membership)
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
            AgencyAction.MEMBERSHIP_ROLE_CHANGED,
            actor=actor,
            target=membership,
            detail={"user_id": membership.user_id, "from": previous, "to": role},
        )
        # A session or token signed in under the old role ends: the person signs in again
        # and sees what the new role is (scoping itself applies on the next request).
        sign_ins_end(actor=actor, user=membership.user, reason="role_changed")
    return membership


def membership_deactivate(*, actor: Any, membership: Membership) -> Membership:
    """Stop a member from signing in. Their sessions and API tokens end for good (a
    reactivation does not revive them); their history (audit, authorship) stays."""
    _require_manager_of(actor, membership)
    if actor is not None and actor.pk == membership.user_id:
        raise ValidationError(_("You cannot deactivate your own account."))
    with transaction.atomic():
        user = membership.user
        if not user.is_active:
            return membership
        user.is_active = False
        user.save(update_fields=["is_active"])
        # Not only refused while inactive: a session from before must not come back to
        # life when the account is reactivated.
        sign_ins_end(actor=actor, user=user, reason="deactivated")
        record(
            AgencyAction.MEMBERSHIP_DEACTIVATED,
            actor=actor,
            target=membership,
            detail={"user_id": user.pk},
        )
    return membership


def membership_reactivate(*, actor: Any, membership: Membership) -> Membership:
    _require_manager_of(actor, membership)
    with transaction.atomic():
        user = membership.user
        if user.is_active:
            return membership
        user.is_active = True
        user.save(update_fields=["is_active"])
        record(
            AgencyAction.MEMBERSHIP_REACTIVATED,
            actor=actor,
            target=membership,
            detail={"user_id": user.pk},
        )
    return membership


def member_second_factors_reset(*, actor: Any, membership: Membership) -> int:
    """An agency admin (or a superuser) removes every second factor of a member of their
    agency who lost their phone or key: the member's sessions and tokens end, they are
    told, and they enrol again at their next sign-in. Audited. Returns how many devices
    were removed."""
    from . import second_factor

    _require_manager_of(actor, membership)
    if actor is not None and actor.pk == membership.user_id:
        raise ValidationError(
            _("You cannot reset your own second factors; ask another administrator.")
        )
    return second_factor.second_factors_reset(actor=actor, user=membership.user)
