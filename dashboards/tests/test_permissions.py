"""The permission matrix's rows for dashboards, pages and API: the partnership's
managers and an agency's case managers; one export of the partnership manager's, built.
See ``tests/permission_matrix.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.permission_matrix import (
    API_ANON,
    HTML_LOGIN,
    Expect,
    Rows,
    World,
    check,
    each_row,
    only,
)

DASHBOARD_ROLES = {"partnership_manager": 200, "case_manager": 200}
partnership_pk = lambda w: {"pk": w.partnership.pk}  # noqa: E731
harbour_pk = lambda w: {"pk": w.agencies["harbour"].pk}  # noqa: E731
export_pk = lambda w: {"pk": w.parts["export_job"].pk}  # noqa: E731


def _table(kwargs: Callable[[World], dict[str, Any]]) -> Callable[[World], dict[str, Any]]:
    return lambda w: {**kwargs(w), "table_key": "cases_by_month"}


ROWS: Rows = {
    "dashboards:list": [
        Expect(
            "GET",
            only(DASHBOARD_ROLES, 403, HTML_LOGIN),
            note="partnership and case managers; other roles open no dashboard",
        )
    ],
    **{
        f"dashboards:partnership_{name}": [
            Expect(
                "GET",
                only({"partnership_manager": 200}, 403, HTML_LOGIN),
                kwargs=kwargs,
                note="the partnership's managers; other roles 403 before any lookup, "
                "as the API; another partnership's manager would get 404 (audited)",
            )
        ]
        for name, kwargs in (
            ("dashboard", partnership_pk),
            ("report", partnership_pk),
            ("csv", _table(partnership_pk)),
        )
    },
    **{
        f"dashboards:agency_{name}": [
            Expect(
                "GET",
                only(DASHBOARD_ROLES, 403, HTML_LOGIN),
                kwargs=kwargs,
                note="Harbour's case manager, and the manager of its partnership; roles "
                "that open no dashboard 403, as the API",
            )
        ]
        for name, kwargs in (
            ("dashboard", harbour_pk),
            ("report", harbour_pk),
            ("csv", _table(harbour_pk)),
        )
    },
    "dashboards:partnership_export": [
        Expect("POST", only({"partnership_manager": 302}, 403, HTML_LOGIN), kwargs=partnership_pk),
        Expect("GET", only({}, 405, HTML_LOGIN), kwargs=partnership_pk),
    ],
    "dashboards:agency_export": [
        Expect(
            "POST",
            only({"partnership_manager": 302, "case_manager": 302}, 403, HTML_LOGIN),
            kwargs=harbour_pk,
        ),
        Expect("GET", only({}, 405, HTML_LOGIN), kwargs=harbour_pk),
    ],
    "dashboards:export_detail": [
        Expect(
            "GET",
            only({"partnership_manager": 200, "case_manager": 404}, 403, HTML_LOGIN),
            kwargs=export_pk,
            note="the requester only; roles that open no dashboard 403 before any lookup",
        )
    ],
    "dashboards:export_download": [
        Expect(
            "GET",
            only({"partnership_manager": 200, "case_manager": 404}, 403, HTML_LOGIN),
            kwargs=export_pk,
            note="the requester only (audited); roles that open no dashboard 403",
        )
    ],
    "api:dashboard-partnership": [
        Expect(
            "GET",
            only({"partnership_manager": 200}, 403, API_ANON),
            api=True,
            kwargs=lambda w: {"partnership_id": w.partnership.pk},
            note="a case manager's role never opens a partnership's: 403, as the page",
        )
    ],
    "api:dashboard-agency": [
        Expect(
            "GET",
            only({"partnership_manager": 200, "case_manager": 200}, 403, API_ANON),
            api=True,
            kwargs=lambda w: {"agency_id": w.agencies["harbour"].pk},
            note="Harbour's own case manager; the partnership's manager",
        )
    ],
}


@pytest.mark.django_db
@each_row(ROWS)
def test_route_answers_each_role_as_expected(matrix_world: World, name: str, index: int) -> None:
    check(name, ROWS[name][index], matrix_world)
