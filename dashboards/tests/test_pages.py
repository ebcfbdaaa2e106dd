"""The dashboard pages: who may open which, what they show (the published numbers only:
"<10" in tables, gaps in charts), the CSV files, the printable report, the audit trail
and a query count that does not grow with the caseload."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from agencies.models import Role
from agencies.tests.factories import member
from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from dashboards import exports
from dashboards.audit_actions import DashboardAction
from dashboards.measures import build_dashboard
from dashboards.suppression import publish
from dashboards.tables import Column, PublishedRow, PublishedTable

from . import dataset
from .test_query_budget import _grow

# Some tests reach the database through fixtures chosen at run time (getfixturevalue):
# marked here, so that pytest-django orders them with the other database tests.
pytestmark = pytest.mark.django_db

YEAR = {"from": "2025-01-01", "to": "2025-12-31"}
NO_VALUE = "—no value"  # a share of nothing: a dash, and words for screen readers


def url(kind: str, pk: int, name: str = "dashboard", *args: str, **params: str) -> str:
    path = reverse(f"dashboards:{kind}_{name}", args=[pk, *args])
    if params:
        path += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return path


class Tables(HTMLParser):
    """Every <table> of a page: its caption id and its rows of (tag, text) cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str]]]] = {}
        self._table: list[list[tuple[str, str]]] | None = None
        self._cell: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = []
        elif tag == "caption" and self._table is not None:
            self.tables[dict(attrs)["id"].removeprefix("cap-")] = self._table
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = (tag, [])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            name, parts = self._cell
            self._table[-1].append((name, " ".join("".join(parts).split())))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[1].append(data)


def tables_of(html: str) -> dict[str, list[list[tuple[str, str]]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def charts_of(html: str) -> dict[str, dict]:
    found = re.findall(
        r'<script id="chart-data-([\w-]+)" type="application/json">(.*?)</script>', html
    )
    return {key: json.loads(body) for key, body in found}


def shown_cells(table) -> list[list[str]]:
    """The published table as the page shows it: each line's values as text."""
    lines = []
    for line in table.csv_rows()[1:]:
        lines.append([NO_VALUE if v is None else str(v) for v in line[1:]])
    return lines


@pytest.fixture
def published(data, northshire, year):
    return publish(build_dashboard(northshire, year))


# --- Who may open what -------------------------------------------------------------


def test_the_list_shows_each_manager_the_dashboards_they_may_open(
    data, login, manager, case_manager, partnership, council, harbour
):
    page = login(manager).get(reverse("dashboards:list"))
    assert page.status_code == 200
    assert url("partnership", partnership.pk) in page.content.decode()
    assert url("agency", council.pk) in page.content.decode()
    page = login(case_manager).get(reverse("dashboards:list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert url("agency", harbour.pk) in html
    assert url("partnership", partnership.pk) not in html


@pytest.mark.parametrize("person", ["caseworker", "police_officer", "analyst", "agency_admin"])
def test_the_list_is_403_for_roles_that_open_no_dashboard(request, login, person):
    response = login(request.getfixturevalue(person)).get(reverse("dashboards:list"))
    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(login, partnership):
    for path in (reverse("dashboards:list"), url("partnership", partnership.pk)):
        response = login(None).get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("person", "status"),
    [
        ("manager", 200),
        ("south_manager", 404),  # the manager of another partnership: not theirs
        # Roles that never open a partnership dashboard: 403, as the API answers them.
        ("case_manager", 403),
        ("caseworker", 403),
        ("police_officer", 403),
        ("prosecutor", 403),
        ("outside_officer", 403),
    ],
)
def test_the_partnership_dashboard_opens_for_its_managers_only(
    request, login, partnership, person, status
):
    user = request.getfixturevalue(person)
    for name in ("dashboard", "report"):
        assert login(user).get(url("partnership", partnership.pk, name)).status_code == status
    csv_url = url("partnership", partnership.pk, "csv", "cases_by_month")
    assert login(user).get(csv_url).status_code == status


def test_a_manager_of_another_partnership_is_refused_and_the_attempt_audited(
    login, south_manager, partnership
):
    assert login(south_manager).get(url("partnership", partnership.pk)).status_code == 404
    assert AuditEvent.objects.filter(
        action=AuthAction.ACCESS_DENIED,
        actor=south_manager,
        target_type="agencies.partnership",
        target_id=str(partnership.pk),
    ).exists()


@pytest.mark.parametrize(
    ("person", "agency", "status"),
    [
        ("case_manager", "harbour", 200),  # their own agency
        ("case_manager", "council", 404),
        ("council_case_manager", "council", 200),
        ("manager", "harbour", 200),  # an agency of their partnership
        ("manager", "south_charity", 404),
        ("south_manager", "harbour", 404),
        # Roles that open no dashboard: 403 even for their own agency.
        ("caseworker", "harbour", 403),
        ("agency_admin", "harbour", 403),
    ],
)
def test_agency_dashboards(request, login, partnership, person, agency, status):
    user = request.getfixturevalue(person)
    pk = request.getfixturevalue(agency).pk
    assert login(user).get(url("agency", pk)).status_code == status


def test_an_unknown_dashboard_is_404(login, manager):
    assert login(manager).get(url("partnership", 999_999)).status_code == 404
    assert login(manager).get(url("agency", 999_999)).status_code == 404


def test_a_role_without_dashboards_gets_the_same_403_whether_the_dashboard_exists(
    login, caseworker, partnership, harbour
):
    client = login(caseworker)
    for kind, pk in (("partnership", partnership.pk), ("agency", harbour.pk)):
        for name in ("dashboard", "report"):
            assert client.get(url(kind, pk, name)).status_code == 403
            assert client.get(url(kind, 999_999, name)).status_code == 403
    assert not AuditEvent.objects.filter(action=AuthAction.ACCESS_DENIED).exists()
    assert (
        AuditEvent.objects.filter(action=AuthAction.ACCESS_FORBIDDEN, actor=caseworker).count() == 8
    )


def test_the_nav_shows_dashboards_to_managers_only(login, manager, case_manager, caseworker):
    link = f'href="{reverse("dashboards:list")}"'
    assert link in login(manager).get(reverse("home")).content.decode()
    assert link in login(case_manager).get(reverse("home")).content.decode()
    assert link not in login(caseworker).get(reverse("home")).content.decode()


# --- What the page shows -----------------------------------------------------------


def test_every_table_is_shown_as_published_with_its_chart_csv_link_and_the_report_link(
    login, manager, partnership, published
):
    response = login(manager).get(url("partnership", partnership.pk, **YEAR))
    assert response.status_code == 200
    html = response.content.decode()
    tables = tables_of(html)
    keys = [table.key for section in published.sections for table in section.tables]
    assert list(tables) == keys
    for section in published.sections:
        assert section.title in html
        for table in section.tables:
            rows = tables[table.key]
            header, *lines = rows
            assert [text for _, text in header] == [str(c) for c in table.csv_rows()[0]]
            # Every line starts with its row header (th scope=row), then the values.
            assert all(line[0][0] == "th" for line in lines)
            assert [[text for _, text in line[1:]] for line in lines] == shown_cells(table)
            csv_link = url("partnership", partnership.pk, "csv", table.key, **YEAR)
            assert f'href="{csv_link.replace("&", "&amp;")}"' in html
    assert 'scope="col"' in html and 'scope="row"' in html
    assert html.count(">Download CSV<") == len(keys)
    report = url("partnership", partnership.pk, "report", **YEAR).replace("&", "&amp;")
    assert f'href="{report}"' in html
    assert "Export all tables (ZIP of CSVs)" in html
    # The legend explains the marker; hidden cells carry their explanation.
    assert "Reading the numbers" in html
    assert '<abbr title="Fewer than 10, or hidden to protect people">&lt;10</abbr>' in html


def test_tables_and_figures_show_the_marker_never_a_small_number(
    login, manager, partnership, published
):
    html = login(manager).get(url("partnership", partnership.pk, **YEAR)).content.decode()
    values = [
        text
        for rows in tables_of(html).values()
        for line in rows[1:]
        for tag, text in line
        if tag == "td"
    ]
    assert "<10" in values
    assert not [value for value in values if re.fullmatch(r"[1-9](\.\d+)?%?", value)]
    figures = re.findall(r"<dd[^>]*><strong>(.*?)</strong>", html, re.S)
    assert figures and all(">&lt;10<" in f or ">suppressed<" in f for f in figures)
    for secret in dataset.SECRETS:
        assert secret not in html


def test_charts_plot_suppressed_values_as_gaps(
    login, manager, partnership, settings, data, northshire, year
):
    settings.SUPPRESSION_THRESHOLD = 3  # some numbers shown, some hidden
    html = login(manager).get(url("partnership", partnership.pk, **YEAR)).content.decode()
    published = publish(build_dashboard(northshire, year))
    charts = charts_of(html)
    assert charts["cases_by_month"]["type"] == "line"
    assert charts["cases_by_exploitation_type"]["type"] == "bar"
    seen_gap = seen_number = False
    for key, chart in charts.items():
        table = published.table(key)
        assert chart["labels"] == [row.label for row in table.rows]
        for i, dataset_ in enumerate(chart["datasets"]):
            assert dataset_["label"] == table.columns[i].label
            for row, plotted in zip(table.rows, dataset_["data"], strict=True):
                shown = row.values[i]
                if isinstance(shown, str):
                    assert plotted is None, (key, row.key, shown)
                    seen_gap = True
                else:
                    assert plotted == shown
                    seen_number = seen_number or shown > 0
    assert seen_gap and seen_number
    # Risk levels at 3: 5 standard, "<3" medium, 3 high, "<3" immediate.
    assert charts["cases_by_risk_level"]["datasets"][0]["data"] == [5, None, 3, None]


def test_a_table_whose_every_count_is_hidden_has_no_chart(login, manager, partnership, data):
    html = login(manager).get(url("partnership", partnership.pk, **YEAR)).content.decode()
    charts = charts_of(html)
    # Risk levels: 5, 3, 3 and 1 of 12, all hidden at 10.
    assert "cases_by_risk_level" not in charts
    assert "No chart: every count of this table is hidden (&lt;10)." in html
    assert charts["cases_by_month"]["datasets"][0]["data"][4] == 0  # May: none opened


def test_filters_are_applied_and_offered(login, manager, partnership, harbour, data):
    params = {**YEAR, "exploitation_type": "labour", "agency": str(harbour.pk)}
    response = login(manager).get(url("partnership", partnership.pk, **params))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="labour" selected>' in html
    assert f'<option value="{harbour.pk}" selected>' in html
    event = AuditEvent.objects.get(action=DashboardAction.VIEWED)
    assert event.detail == {
        "scope": "partnership",
        "format": "page",
        "filters": {
            "from": "2025-01-01",
            "to": "2025-12-31",
            "agency": harbour.pk,
            "region": None,
            "exploitation_type": "labour",
        },
    }
    assert (event.actor, event.target_type, event.target_id) == (
        manager,
        "agencies.partnership",
        str(partnership.pk),
    )


def test_bad_filters_get_clear_errors_and_nothing_is_counted(login, manager, partnership, data):
    params = {"from": "2025-13-01", "exploitation_type": "slavery", "agency": "999999"}
    response = login(manager).get(url("partnership", partnership.pk, **params))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Correct the filters below" in html
    assert "Enter a date as YYYY-MM-DD" in html
    assert "“slavery” is not an exploitation type" in html
    assert "Agency 999999 is not one of this dashboard" in html
    assert 'aria-invalid="true"' in html
    assert "<table" not in html
    assert not AuditEvent.objects.filter(action=DashboardAction.VIEWED).exists()
    for name in ("report", "csv"):
        args = ("cases_by_month",) if name == "csv" else ()
        bad = login(manager).get(url("partnership", partnership.pk, name, *args, **params))
        assert bad.status_code == 400
        assert "Enter a date as YYYY-MM-DD" in bad.content.decode()


def test_the_agency_dashboard_has_no_agency_filter(login, case_manager, harbour, data):
    html = login(case_manager).get(url("agency", harbour.pk, **YEAR)).content.decode()
    assert 'name="agency"' not in html
    assert "Harbour Trust" in html


def test_the_page_takes_the_same_number_of_queries_whatever_the_caseload(
    login, manager, partnership, data, django_assert_num_queries
):
    client = login(manager)
    path = url("partnership", partnership.pk, **YEAR)
    client.get(path)  # warm: the session, permission ids
    # The session, the user with membership and agency (2); the scope: the partnership
    # and its agencies (2); the 14 measures; the audit row (1); the header's unread count
    # (1); the session's idle-time stamp (savepoint, update, release: 3); the second
    # factor the session was verified by (django-otp, 1).
    expected = 24
    with django_assert_num_queries(expected):
        assert client.get(path).status_code == 200
    _grow(data, 3)
    with django_assert_num_queries(expected):
        assert client.get(path).status_code == 200
    with django_assert_num_queries(expected):
        assert (
            client.get(url("partnership", partnership.pk, exploitation_type="labour")).status_code
            == 200
        )


# --- CSV -----------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    body = b"".join(response) if hasattr(response, "streaming_content") else response.content
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_csv_file_is_the_published_table(login, manager, partnership, published):
    for section in published.sections:
        for table in section.tables:
            response = login(manager).get(
                url("partnership", partnership.pk, "csv", table.key, **YEAR)
            )
            assert response.status_code == 200
            assert response["Content-Type"] == "text/csv; charset=utf-8"
            assert response["Content-Disposition"] == (
                f'attachment; filename="concord_partnership-{partnership.pk}_{table.key}'
                '_2025-01-01_2025-12-31.csv"'
            )
            expected = [[exports.csv_cell(v) for v in line] for line in table.csv_rows()]
            assert read_csv(response) == expected
    months = read_csv(
        login(manager).get(url("partnership", partnership.pk, "csv", "cases_by_month", **YEAR))
    )
    assert months[0] == ["Month", "Opened", "Closed"]
    assert months[1] == ["January 2025", "<10", "<10"]
    assert months[-1] == ["Total", "12", "<10"]
    events = AuditEvent.objects.filter(action=DashboardAction.CSV_DOWNLOADED)
    assert events.count() == sum(len(s.tables) for s in published.sections) + 1
    assert events.first().detail["table"] in {t.key for s in published.sections for t in s.tables}


def test_an_unknown_table_is_404(login, manager, partnership, data):
    response = login(manager).get(url("partnership", partnership.pk, "csv", "people", **YEAR))
    assert response.status_code == 404


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped():
    table = PublishedTable(
        key="t",
        title="T",
        row_header="=Row",
        columns=(Column("a", "+Column"), Column("b", "@B")),
        rows=(
            PublishedRow("r1", '=HYPERLINK("http://evil.example","x")', ("<10", 12)),
            PublishedRow("r2", "-1+1", (0, "<10")),
            PublishedRow("r3", "\tTabbed", (3, 4)),
            PublishedRow("r4", "Plain, with comma", (5, 6)),
        ),
        column_totals=(20, "<10"),
        grand_total=None,
        total_label="Total",
    )
    body = exports.table_csv(table)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [
        ["'=Row", "'+Column", "'@B"],
        ['\'=HYPERLINK("http://evil.example","x")', "<10", "12"],
        ["'-1+1", "0", "<10"],
        ["'\tTabbed", "3", "4"],
        ["Plain, with comma", "5", "6"],
        ["Total", "20", "<10"],
    ]
    assert exports.csv_cell(None) == "" and exports.csv_cell(45.5) == "45.5"


# --- The printable report ------------------------------------------------------------


def test_the_report_has_every_table_the_filters_the_time_and_the_threshold(
    login, manager, partnership, harbour, published
):
    params = {**YEAR, "agency": str(harbour.pk), "exploitation_type": "sexual"}
    response = login(manager).get(url("partnership", partnership.pk, "report", **params))
    assert response.status_code == 200
    html = response.content.decode()
    keys = [table.key for section in published.sections for table in section.tables]
    assert list(tables_of(html)) == keys
    assert "2025-01-01 to 2025-12-31" in html
    assert "Harbour Trust" in html and "Sexual" in html and "All regions" in html
    assert "counts below 10 are hidden" in html
    assert "Counted at" in html
    assert "<canvas" not in html
    event = AuditEvent.objects.get(action=DashboardAction.VIEWED)
    assert event.detail["format"] == "report"
    css = (Path(settings.BASE_DIR) / "static/css/concord.css").read_text()
    assert "@media print" in css


def test_a_case_manager_prints_their_agency_report(login, case_manager, harbour, data):
    response = login(case_manager).get(url("agency", harbour.pk, "report", **YEAR))
    assert response.status_code == 200
    html = response.content.decode()
    assert "All agencies" not in html
    assert (
        '<dt class="col-4 col-md-3">Agency</dt><dd class="col-8 col-md-9 mb-1">Harbour Trust</dd>'
        in html
    )


def test_a_changed_role_applies_on_the_next_request(login, manager, partnership, data):
    client = login(manager)
    assert client.get(url("partnership", partnership.pk)).status_code == 200
    manager.membership.role = Role.CASEWORKER
    manager.membership.save()
    assert client.get(url("partnership", partnership.pk)).status_code == 403
    assert client.get(reverse("dashboards:list")).status_code == 403


def test_a_second_manager_of_the_same_partnership_opens_it_too(login, council, partnership):
    other = member(council, Role.PARTNERSHIP_MANAGER, username="second-manager")
    assert login(other).get(url("partnership", partnership.pk)).status_code == 200
