"""Loading the signed-in user for a request: one way, whichever door the request came in by.

Scoping needs three things about the user on every request: the membership, its agency,
and whether the user holds a live personal grant on each registered model
(``access.PERSONAL_GRANTS``). With those flags, a user who holds no personal grant is
scoped by the agency grants alone, a semi-join PostgreSQL plans from the grant table's
statistics; without them scoping must assume there may be some and adds
``OR pk IN (user grants)``, which for a caseworker who sees 20% of 100,000 cases put the
token door's case list at 2x the superuser's time against 1.15x through a session.

So every way of signing in loads its user through ``user_for_request``, in one query:
the browser session (``backends.MembershipBackend.get_user``), an API token
(``TokenAuthentication`` below, registered in ``REST_FRAMEWORK``), and any door added
later (a second factor must hand over a user loaded here, not one it fetched itself).
Nothing is cached across requests: a change of membership, role or grant applies on the
very next request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions
from rest_framework.request import Request

from . import access

if TYPE_CHECKING:
    from knox.models import AuthToken

    from .models import User


class SignedInRequest(HttpRequest):
    """The type of a browser request behind ``login_required``: its user is signed in.

    For annotations only: ``request.user`` is a ``User``, never ``AnonymousUser``, so a
    view passes it as a service's ``actor`` as it is. The object is Django's own request.
    """

    user: User


class SignedInApiRequest(Request):
    """The same for the API, whose every view requires ``IsAuthenticated``
    (``DEFAULT_PERMISSION_CLASSES``) before a handler runs."""

    user: User  # narrows DRF's ``user`` property for the type checker; no runtime attribute


def user_for_request(user_id: Any) -> User | None:
    """The user ``user_id`` as a request needs it: with the membership and its agency, and
    the flags saying which models it holds personal grants on, in one query. None when
    there is no such user; whether the user may sign in (is active) is the door's check.
    """
    from .models import User

    try:
        user = (
            User._default_manager.select_related("membership__agency")
            .annotate(**access.personal_grant_annotations())
            .get(pk=user_id)
        )
    except User.DoesNotExist:
        return None
    return access.remember_personal_grants(user)


class TokenAuthentication(KnoxTokenAuthentication):
    """django-rest-knox's token door, handing the view the user ``user_for_request`` loads.

    Knox finds the token (by its prefix, then the digest), deletes expired ones and then
    calls ``validate_user``; only there is the user swapped for the one loaded with its
    membership and personal-grant flags, so knox's own expiry and refresh checks stay as
    they are, and its "inactive or deleted" check runs on the freshly loaded user.
    """

    def validate_user(self, auth_token: AuthToken) -> tuple[User, AuthToken]:
        user = user_for_request(auth_token.user_id)
        if user is None:  # deleted since the token's row was read
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        auth_token.user = user
        validated: tuple[User, AuthToken] = super().validate_user(auth_token)
        return validated


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of ``TokenAuthentication``: knox's (``knoxApiToken``),
    which drf-spectacular matches to knox's own class only."""

    target_class = "agencies.auth.TokenAuthentication"
