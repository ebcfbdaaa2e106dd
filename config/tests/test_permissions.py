"""The permission matrix's rows for the routes config names itself: the home page, the
health checks, the API's root and schema, and the Django admin. See
``tests/permission_matrix.py``."""

from __future__ import annotations

import pytest
from django.urls import get_resolver, reverse

from tests.permission_matrix import (
    API_ANON,
    HTML_LOGIN,
    ROLES,
    Expect,
    Rows,
    World,
    check,
    client_for,
    each_row,
    everyone,
    route_names,
)

ROWS: Rows = {
    "home": [Expect("GET", everyone(200, HTML_LOGIN))],
    "healthz": [
        Expect(
            "GET",
            everyone(frozenset({200, 503}), frozenset({200, 503})),
            note="public; 503 without Redis",
        )
    ],
    "livez": [Expect("GET", everyone(200, 200), note="public; no database, no Redis")],
    "api:root": [Expect("GET", everyone(200, API_ANON), api=True)],
    "schema": [Expect("GET", everyone(200, API_ANON), api=True)],
    "api-docs": [Expect("GET", everyone(200, API_ANON), api=True)],
    "admin_login": [Expect("GET", everyone(403, HTML_LOGIN), note="Concord's sign-in; not staff")],
}


@pytest.mark.django_db
@each_row(ROWS)
def test_route_answers_each_role_as_expected(matrix_world: World, name: str, index: int) -> None:
    check(name, ROWS[name][index], matrix_world)


# The Django admin is for superusers only: no Concord role is staff. Its routes are
# covered by one rule, checked on every one of them: a redirect into the admin's login
# (admin:logout sends non-staff to the admin index, which does the same). The admin's
# login is Concord's own sign-in (config.views.admin_login): anonymous callers are sent
# to it, signed-in non-staff get 403.
ADMIN_LOGIN = "admin:login"
ADMIN_ROUTES = sorted(r for r in route_names() if r.startswith("admin:"))


def _reverse_admin(name: str) -> str:
    """Any admin URL, its parameters filled with placeholders (the check runs first)."""
    _, admin_resolver = get_resolver().namespace_dict["admin"]
    (_format, params), *_ = admin_resolver.reverse_dict.getlist(name.removeprefix("admin:"))[0][0]
    placeholders = {"app_label": "agencies"}
    return reverse(name, kwargs={param: placeholders.get(param, "1") for param in params})


def test_the_admin_has_routes_to_check() -> None:
    assert len(ADMIN_ROUTES) > 20


@pytest.mark.django_db
@pytest.mark.parametrize("name", ADMIN_ROUTES)
def test_admin_routes_are_for_superusers_only(matrix_world: World, name: str) -> None:
    url = _reverse_admin(name)  # a route we cannot build a URL for is a failure too
    mismatches = []
    for role in ROLES:
        response = client_for(role, matrix_world, api=False).get(url)
        expected, into = 302, "/admin/"
        if name == ADMIN_LOGIN:
            expected, into = (302, "/accounts/login/") if role == "anonymous" else (403, "")
        if response.status_code != expected or (
            expected == 302 and not response["Location"].startswith(into)
        ):
            mismatches.append(f"{role}: {response.status_code}")
    assert not mismatches, f"{name}: " + "; ".join(mismatches)
