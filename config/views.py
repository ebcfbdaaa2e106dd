"""Project-level pages: the home page for each role, the health check, the API root."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from agencies import access
from agencies.models import Partnership, SharingGroup
from agencies.permissions import MANAGE_AGENCY_USERS
from casework.models import BreakGlassEvent
from casework.permissions import REVIEW_BREAK_GLASS
from dashboards.scope import dashboards_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What this user can do today, by role; only what exists is shown."""
    membership = access.active_membership(request.user)
    agency = membership.agency if membership else None
    context: dict[str, Any] = {
        "agency": agency,
        "partnerships": Partnership.objects.of_agency(agency).prefetch_related("agencies"),
        "sharing_groups": SharingGroup.objects.for_agency(agency).select_related("owner"),
        "can_manage_users": access.user_may(request.user, MANAGE_AGENCY_USERS),
        # Break-glass openings whose review is this user's: one COUNT over the
        # few unreviewed events, and only for the roles that ever review.
        "break_glass_to_review": BreakGlassEvent.objects.to_review_by(request.user)
        .unreviewed()
        .count()
        if membership is not None and access.role_may(membership.role, REVIEW_BREAK_GLASS)
        else 0,
    }
    return render(request, "home.html", context)


def _redis_ok() -> bool:
    if not settings.REDIS_URL:
        return False
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _broker_ok() -> bool | None:
    """Whether Celery's broker answers, or None when it is the Redis checked already (or
    the tests' in-memory one): RabbitMQ, or a Redis other than REDIS_URL's."""
    url = settings.CELERY_BROKER_URL
    if url == settings.REDIS_URL or url.startswith("memory://"):
        return None
    import kombu

    try:
        with kombu.Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:  # kombu raises each transport's own errors
        return False
    return True


@never_cache
def livez(request: HttpRequest) -> HttpResponse:
    """200 while the process serves requests; touches neither the database nor Redis.

    For a supervisor's liveness probe (``/healthz`` is the readiness check), and the
    benchmark's trivial view (P7).
    """
    return HttpResponse("ok", content_type="text/plain")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database, Redis and (when it is not that Redis) Celery's broker
    answer, 503 otherwise. Reveals nothing else."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unavailable"
    checks["redis"] = "ok" if _redis_ok() else "unavailable"
    broker = _broker_ok()
    if broker is not None:
        checks["broker"] = "ok" if broker else "unavailable"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )


@extend_schema(exclude=True)
@api_view(["GET"])
def api_root(request: Request, format: str | None = None) -> Response:
    """Where to start: the resources of API v1, its schema and documentation, and the
    dashboards the caller may open."""

    def link(name: str, **kwargs: Any) -> str:
        return reverse(name, kwargs=kwargs or None, request=request, format=format)

    return Response(
        {
            "me": link("api:me"),
            "token": link("api:token"),
            "agencies": link("api:agency-list"),
            "partnerships": link("api:partnership-list"),
            "sharing_groups": link("api:sharinggroup-list"),
            "agency_users": link("api:member-list"),
            "cases": link("api:case-list"),
            "referrals": link("api:referral-list"),
            "deadlines": link("api:deadlines"),
            "notifications": link("api:notification-list"),
            "evidence_requests": link("api:evidence-request-list"),
            "break_glass": link("api:break-glass-list"),
            "break_glass_to_review": link("api:break-glass-to-review"),
            "intelligence": link("api:intelligence-report-list"),
            "intelligence_matches": link("api:intelligence-report-matches"),
            "operations": link("api:operation-list"),
            "dashboards": [
                link(f"api:dashboard-{info.kind}", **{f"{info.kind}_id": info.id})
                for info in dashboards_for(request.user)
            ],
            "schema": link("schema"),
            "docs": link("api-docs"),
        }
    )


@never_cache
def admin_login(request: HttpRequest) -> HttpResponse:
    """``/admin/login/``: Concord's own sign-in (password, then second factor), whose
    failures django-axes counts and the audit trail records. Signed in with both and
    still here: to the admin for staff, 403 for anyone else."""
    from django.contrib.auth.views import redirect_to_login
    from django.core.exceptions import PermissionDenied

    from agencies.second_factor import is_verified

    target = request.GET.get("next") or "/admin/"
    if request.user.is_authenticated:
        if not is_verified(request.user):
            return redirect_to_login(target, "two_factor_verify")
        if request.user.is_staff:
            return redirect("admin:index")
        raise PermissionDenied
    response: HttpResponse = redirect_to_login(target)
    return response
