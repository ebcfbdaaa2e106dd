"""The dashboards API: the published dashboard as JSON, for whom it may be, its
parameters, its audit trail and its query count.

The people: ``manager`` (the Council's partnership manager, Northshire), ``case_manager``
(Harbour Trust), ``council_case_manager``, ``south_manager`` (the other partnership's
manager), ``caseworker`` (Harbour Trust, no dashboard at all).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from dashboards.api.schema import DASHBOARD
from dashboards.audit_actions import DashboardAction
from dashboards.filters import Filters, default_period
from dashboards.measures import build_dashboard
from dashboards.scope import Scope
from dashboards.suppression import publish

from . import dataset

YEAR = {"from": "2025-01-01", "to": "2025-12-31"}


def partnership_url(partnership: Any) -> str:
    """The partnership dashboard of a ``Partnership`` or a ``Scope``."""
    return f"/api/v1/dashboards/partnership/{partnership.id}/"


def agency_url(agency: Any) -> str:
    return f"/api/v1/dashboards/agency/{agency.id}/"


def expected(scope: Scope, filters: Filters) -> dict[str, Any]:
    """What the pages publish for ``scope`` and ``filters``, as JSON, without the time."""
    body = json.loads(json.dumps(publish(build_dashboard(scope, filters)).as_dict()))
    del body["generated_at"]
    return body


def without_time(body: dict[str, Any]) -> dict[str, Any]:
    assert body["generated_at"]
    return {key: value for key, value in body.items() if key != "generated_at"}


def counts(body: dict[str, Any]) -> Iterator[Any]:
    """Every published count in the body: cells, totals, count figures and the ``n`` of
    shares and medians."""

    def of_figures(figures: list[dict[str, Any]]) -> Iterator[Any]:
        for figure in figures:
            if figure["kind"] == "count":
                yield figure["value"]
            elif figure["n"] is not None:
                yield figure["n"]

    for section in body["sections"]:
        yield from of_figures(section["figures"])
        for table in section["tables"]:
            for row in table["rows"]:
                yield from row["values"]
                if row["total"] is not None:
                    yield row["total"]
                yield from of_figures(row["figures"])
            totals = table["totals"]
            if totals is not None:
                yield from totals["values"]
                if totals["total"] is not None:
                    yield totals["total"]
                yield from of_figures(totals["figures"])


# --- The body is the published dashboard --------------------------------------------------


def test_the_partnership_dashboard_is_what_the_pages_publish(api, data, manager, northshire, year):
    response = api(manager).get(partnership_url(northshire), YEAR)
    assert response.status_code == 200
    assert without_time(response.json()) == expected(northshire, year)


def test_the_agency_dashboard_is_what_the_pages_publish(api, data, case_manager, harbour, year):
    response = api(case_manager).get(agency_url(harbour), YEAR)
    assert response.status_code == 200
    body = response.json()
    assert body["scope"] == {"kind": "agency", "id": harbour.pk, "name": "Harbour Trust"}
    assert without_time(body) == expected(Scope.of_agency(harbour), year)


def test_filters_give_the_same_numbers_as_on_the_pages(api, data, manager, northshire, council):
    params = {**YEAR, "agency": council.pk, "region": "Northshire", "exploitation_type": "labour"}
    response = api(manager).get(partnership_url(northshire), params)
    assert response.status_code == 200
    body = response.json()
    assert body["filters"] == {**params, "agency": council.pk}
    filters = Filters(*dataset.PERIOD, council.pk, "Northshire", "labour")
    assert without_time(body) == expected(northshire, filters)


def test_suppressed_counts_are_the_marker_and_no_small_number_is_shown(
    api, data, manager, northshire
):
    body = api(manager).get(partnership_url(northshire), YEAR).json()
    shown = list(counts(body))
    assert "<10" in shown
    for value in shown:
        assert value == "<10" or (isinstance(value, int) and (value == 0 or value >= 10)), value
    # The risk levels of the year's 12 cases are 5, 3, 3 and 1: all hidden, 12 shown.
    risk = next(
        table
        for section in body["sections"]
        for table in section["tables"]
        if table["key"] == "cases_by_risk_level"
    )
    assert [row["values"] for row in risk["rows"]] == [["<10"]] * 4
    assert risk["totals"]["values"] == [12]


def test_without_dates_the_last_twelve_months(api, data, manager, northshire):
    body = api(manager).get(partnership_url(northshire)).json()
    start, end = default_period()
    assert body["filters"]["from"] == start.isoformat()
    assert body["filters"]["to"] == end.isoformat()


def test_no_name_reference_or_free_text_leaves(api, data, manager, case_manager, northshire):
    bodies = [
        api(manager).get(partnership_url(northshire), YEAR).content.decode(),
        api(case_manager).get(agency_url(data.people.harbour), YEAR).content.decode(),
    ]
    for text in bodies:
        for secret in dataset.SECRETS:
            assert secret not in text


# --- Who may read which dashboard --------------------------------------------------------


def test_the_partnership_manager_reads_their_partnership_and_its_agencies(
    api, data, manager, northshire, harbour, council, police
):
    client = api(manager)
    assert client.get(partnership_url(northshire), YEAR).status_code == 200
    for agency in (harbour, council, police):
        assert client.get(agency_url(agency), YEAR).status_code == 200


def test_another_partnerships_manager_gets_404(
    api, data, south_manager, northshire, harbour, south_partnership
):
    client = api(south_manager)
    assert client.get(partnership_url(northshire), YEAR).status_code == 404
    assert client.get(agency_url(harbour), YEAR).status_code == 404
    # Their own partnership opens.
    assert client.get(partnership_url(south_partnership), YEAR).status_code == 200
    denied = AuditEvent.objects.filter(action=AuthAction.ACCESS_DENIED, actor=south_manager)
    assert {(event.target_type, event.target_id) for event in denied} == {
        ("agencies.partnership", str(northshire.id)),
        ("agencies.agency", str(harbour.pk)),
    }


def test_a_case_manager_reads_their_own_agency_only(
    api, data, case_manager, council_case_manager, harbour, council, northshire
):
    assert api(case_manager).get(agency_url(harbour), YEAR).status_code == 200
    assert api(case_manager).get(agency_url(council), YEAR).status_code == 404
    assert api(council_case_manager).get(agency_url(harbour), YEAR).status_code == 404


def test_a_case_manager_gets_403_for_any_partnership_dashboard_as_in_the_browser(
    api, login, data, case_manager, northshire
):
    # Their role never opens a partnership's dashboard: refused before the id is looked
    # up, so their own partnership and one that does not exist answer alike.
    for url in (partnership_url(northshire), "/api/v1/dashboards/partnership/999999/"):
        response = api(case_manager).get(url, YEAR)
        assert response.status_code == 403
        assert "partnership managers" in response.json()["detail"]
    page = f"/dashboards/partnership/{northshire.id}/"
    assert login(case_manager).get(page).status_code == 403
    assert not AuditEvent.objects.filter(action=AuthAction.ACCESS_DENIED).exists()


def test_a_role_without_dashboards_gets_403_audited(
    api, login, data, caseworker, harbour, northshire
):
    client = api(caseworker)
    for url in (partnership_url(northshire), agency_url(harbour)):
        response = client.get(url, YEAR)
        assert response.status_code == 403
        assert "dashboards" in response.json()["detail"].lower()
        # The browser answers the same situation the same way (it was 404 there).
        assert login(caseworker).get(url.removeprefix("/api/v1")).status_code == 403
    forbidden = AuditEvent.objects.filter(action=AuthAction.ACCESS_FORBIDDEN, actor=caseworker)
    paths = [partnership_url(northshire), agency_url(harbour)]
    assert sorted(event.detail["path"] for event in forbidden) == sorted(
        paths + [path.removeprefix("/api/v1") for path in paths]
    )
    assert not AuditEvent.objects.filter(action=DashboardAction.VIEWED).exists()


def test_anonymous_gets_401(api, data, northshire, harbour):
    assert api(None).get(partnership_url(northshire)).status_code == 401
    assert api(None).get(agency_url(harbour)).status_code == 401


def test_a_dashboard_that_does_not_exist_is_404(api, data, manager):
    assert api(manager).get("/api/v1/dashboards/partnership/999999/").status_code == 404
    assert api(manager).get("/api/v1/dashboards/agency/999999/").status_code == 404


@pytest.mark.parametrize("bad_id", ["abc", "1.5", "-1", "false", "99999999999999999999999"])
@pytest.mark.parametrize("kind", ["partnership", "agency"])
def test_an_id_that_is_not_one_is_a_json_404_like_every_api_route(api, data, manager, kind, bad_id):
    response = api(manager).get(f"/api/v1/dashboards/{kind}/{bad_id}/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    missing = api(manager).get(f"/api/v1/dashboards/{kind}/999999/")
    assert response.json() == missing.json()


# --- Parameters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-13-01"}, "from"),
        ({"from": "1999-12-31"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2025-06-01", "to": "2025-05-31"}, "to"),
        ({"from": "2010-01-01", "to": "2025-12-31"}, "to"),
        ({"agency": "harbour"}, "agency"),
        ({"region": "x" * 121}, "region"),
        ({"exploitation_type": "slavery"}, "exploitation_type"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(api, data, manager, northshire, params, field):
    response = api(manager).get(partnership_url(northshire), params)
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field]
    assert errors[field] and all(isinstance(message, str) for message in errors[field])
    assert not AuditEvent.objects.filter(action=DashboardAction.VIEWED).exists()


def test_an_agency_outside_the_dashboard_is_a_400(api, data, manager, northshire, south_charity):
    response = api(manager).get(partnership_url(northshire), {"agency": south_charity.pk})
    assert response.status_code == 400
    assert "not one of this dashboard's agencies" in response.json()["agency"][0]


def test_unknown_parameters_are_ignored(api, data, manager, northshire, year):
    response = api(manager).get(partnership_url(northshire), {**YEAR, "page": "2"})
    assert response.status_code == 200
    assert without_time(response.json()) == expected(northshire, year)


# --- Audit and queries ---------------------------------------------------------------------


def test_each_read_is_audited_with_its_filters_as_codes(api, data, manager, northshire, council):
    params = {**YEAR, "agency": council.pk, "exploitation_type": "criminal"}
    api(manager).get(partnership_url(northshire), params)
    api(manager).get(agency_url(council), YEAR)
    events = AuditEvent.objects.filter(action=DashboardAction.VIEWED).order_by("id")
    assert [(e.actor, e.target_type, e.target_id) for e in events] == [
        (manager, "agencies.partnership", str(northshire.id)),
        (manager, "agencies.agency", str(council.pk)),
    ]
    assert events[0].detail == {
        "scope": "partnership",
        "format": "api",
        "filters": {**params, "agency": council.pk, "region": None},
    }
    assert events[1].detail["filters"]["agency"] is None


# The session and the user (with its membership), the partnership and its agencies, the
# 14 aggregate queries, the audit row, and the session's sliding expiry saved (three, in a
# savepoint): the same whatever the filters and however many rows.
QUERIES = 23  # with the second factor the session was verified by (django-otp)


def test_a_read_is_a_fixed_number_of_queries(
    api, data, manager, northshire, council, django_assert_num_queries
):
    client = api(manager)
    url = partnership_url(northshire)
    with django_assert_num_queries(QUERIES):
        assert client.get(url, YEAR).status_code == 200
    params = {**YEAR, "agency": council.pk, "region": "Eastshire", "exploitation_type": "labour"}
    with django_assert_num_queries(QUERIES):
        assert client.get(url, params).status_code == 200


def _json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: ``nullable`` becomes "or null"."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def test_the_documented_schema_describes_the_body(api, data, manager, northshire, council):
    client = api(manager)
    for params in (YEAR, {**YEAR, "agency": council.pk, "exploitation_type": "labour"}):
        body = client.get(partnership_url(northshire), params).json()
        jsonschema.validate(body, _json_schema(DASHBOARD))


def test_the_api_root_links_the_callers_dashboards(api, data, manager, caseworker, northshire):
    links = api(manager).get("/api/v1/").json()["dashboards"]
    assert links == [
        f"http://testserver{partnership_url(northshire)}",
        f"http://testserver{agency_url(manager.membership.agency)}",
    ]
    assert api(caseworker).get("/api/v1/").json()["dashboards"] == []
