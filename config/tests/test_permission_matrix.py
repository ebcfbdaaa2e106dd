"""The permission matrix covers every route: each URL pattern of the URLconf, HTML and
API, has its expectations for every role in exactly one app's rows.

The rows live next to each app's tests (``<app>/tests/test_permissions*.py``, each with a
``ROWS`` mapping, checked against the running app there); ``tests/permission_matrix.py``
gathers them and holds the world they are checked in. This module fails when a route is
added without rows (or rows outlive their route), when a module loses its ``ROWS``, or
when an app keeps rows for another app's route; so no app's rows can be dropped without
a failure here.
"""

from __future__ import annotations

from collections import defaultdict

from tests.permission_matrix import (
    ROLES,
    matrix,
    matrix_modules,
    route_owner,
    route_views,
)


def test_every_module_of_rows_has_rows() -> None:
    modules = matrix_modules()
    assert modules, "no <app>/tests/test_permissions*.py found"
    empty = [m.__name__ for m in modules if not getattr(m, "ROWS", None)]
    assert not empty, f"modules of the permission matrix without ROWS: {empty}"


def test_every_route_is_covered() -> None:
    rows = matrix()
    routes = set(route_views())
    uncovered = sorted(r for r in routes - set(rows) if not r.startswith("admin:"))
    stale = sorted(set(rows) - routes)
    assert not uncovered, f"routes without permission-matrix expectations: {uncovered}"
    assert not stale, f"expectations for routes that no longer exist: {stale}"
    for name, expectations in rows.items():
        for expect in expectations:
            assert set(expect.statuses) == set(ROLES), (
                f"{name} {expect.method}: one status per role"
            )
            assert set(expect.unread) <= set(ROLES), f"{name} {expect.method}: unknown role"


def test_each_app_keeps_the_rows_of_its_own_routes() -> None:
    """A route's rows are in the modules of the app whose view answers it, so each app's
    rows are found next to its tests (and the admin's are config's own test)."""
    views = route_views()
    keepers: dict[str, set[str]] = defaultdict(set)
    for module in matrix_modules():
        app = module.__name__.split(".")[0]
        for name in module.ROWS:
            keepers[name].add(app)
    misplaced = sorted(
        f"{name}: kept by {sorted(apps)}, answered by {route_owner(name, views[name])}"
        for name, apps in keepers.items()
        if name in views and apps != {route_owner(name, views[name])}
    )
    assert not misplaced, "rows kept by another app than the route's: " + "; ".join(misplaced)
