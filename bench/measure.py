"""The benchmark's measurements: query counts, scoped/unscoped ratios, EXPLAIN.

Every measurement runs in this one process against one database, requests go through
Django's test client (the whole middleware stack, sessions included; P2 and P4 also over
HTTP and through the token door, ``bench.doors``), and each timing is the median and p95
of repeated runs after a warm-up. Ratios compare two medians (or two
p95s) measured the same way, so the machine's speed cancels out.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory, force_authenticate

from agencies.models import User
from casework.api.views import CaseViewSet
from casework.filters import case_list_queryset
from casework.models import Case
from casework.permissions import VIEW_CASE


@dataclass
class Timing:
    label: str
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def compare(calls: dict[str, Callable[[], Any]], *, runs: int, warmup: int = 3) -> list[Timing]:
    """Time several calls in turn, round after round, so that a slow spell of the machine
    (another process, a checkpoint, the CPU's clock) falls on all of them alike."""
    for _ in range(warmup):
        for call in calls.values():
            call()
    timings = {label: Timing(label) for label in calls}
    for _ in range(runs):
        for label, call in calls.items():
            started = time.perf_counter()
            call()
            timings[label].samples.append((time.perf_counter() - started) * 1000)
    return list(timings.values())


def client_for(user: User) -> Client:
    """A session signed in as ``user`` past both steps (password and second factor), as
    the person's browser would hold after signing in."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from agencies.second_factor import totp_device_with_key

    client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0])
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:  # the benchmark's own superuser, or a seed from before devices
        device = totp_device_with_key(user, key_hex=TOTPDevice().key)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def get_ok(client: Client, url: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return response


def count_queries(client: Client, url: str) -> int:
    get_ok(client, url)
    with CaptureQueriesContext(connection) as captured:
        get_ok(client, url)
    return len(captured)


def visible_count(user: User) -> int:
    return Case.objects.visible_to(user, VIEW_CASE).count()


# --- P5: DRF against a plain view returning the same rows as JSON ----------------------

FIELDS = [
    "id",
    "reference",
    "status",
    "lead_agency_id",
    "exploitation_types",
    "county_lines",
    "exploited_as_child",
    "is_child",
    "risk_level",
    "nationality",
    "region",
    "opened_at",
]


def plain_case_list_view(request: HttpRequest) -> JsonResponse:
    """A plain Django view: the API's first page of cases as ``values()``, and the count."""
    queryset = case_list_queryset(request.user).order_by("-opened_at", "-id")
    size = int(request.GET["page_size"])
    rows = list(queryset.values(*FIELDS)[:size])
    return JsonResponse({"count": queryset.count(), "results": rows})


def plain_case_list(user: User, size: int) -> bytes:
    request = RequestFactory().get(
        "/plain/cases/", {"page_size": size}, HTTP_HOST=settings.ALLOWED_HOSTS[0]
    )
    request.user = user
    return plain_case_list_view(request).content


def drf_case_list(user: User, size: int) -> bytes:
    request = APIRequestFactory().get(
        "/api/v1/cases/", {"page_size": size}, HTTP_HOST=settings.ALLOWED_HOSTS[0]
    )
    request.user = user
    view = CaseViewSet.as_view({"get": "list"})
    # The view past both doors' checks: signed in, and past the second step.
    user.is_verified = lambda: True  # type: ignore[attr-defined]  # django_otp's, set per request
    force_authenticate(request, user=user)
    response = view(request)
    response.render()
    return response.content


# --- P3: the plan -----------------------------------------------------------------------


def explain_scoped_list(user: User, size: int = 50) -> str:
    queryset = case_list_queryset(user).order_by("-opened_at", "-id")[:size]
    return queryset.explain()


def seq_scans_on_grant_tables(plan: str) -> list[str]:
    return [line.strip() for line in plan.splitlines() if "Seq Scan on" in line and "grant" in line]
