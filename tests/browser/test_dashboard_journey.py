"""A partnership manager opens the partnership dashboard, filters it by exploitation type,
sees a chart drawn beside its table, downloads the table as CSV, opens the printable
report and exports every table as a ZIP."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agencies.models import Partnership, Role
from agencies.services import agency_create
from casework.models import Case
from tests.browser.conftest import person

LABOUR_CASES = 14
SEXUAL_CASES = 3


@pytest.fixture
def story(transactional_db: None, private_root: Any) -> dict[str, Any]:
    harbour = agency_create(actor=None, name="Harbour Trust", kind="charity", country="GB")
    council = agency_create(
        actor=None, name="Northshire Council", kind="social_services", country="GB"
    )
    partnership = Partnership.objects.create(name="Northshire Partnership", starts_on="2024-04-01")
    partnership.agencies.set([harbour, council])
    person(council, "pam", Role.PARTNERSHIP_MANAGER)
    # Within the default period (the last twelve months): most labour cases this week,
    # two of them five weeks ago, so that month's count is hidden ("<10").
    now = timezone.now()
    for n in range(LABOUR_CASES):
        days = 35 if n < 2 else 1
        Case.objects.create(
            reference=f"JOURNEY-L{n}",
            lead_agency=harbour,
            opened_at=now - datetime.timedelta(days=days, hours=n),
            exploitation_types=["labour"],
        )
    for n in range(SEXUAL_CASES):
        Case.objects.create(
            reference=f"JOURNEY-S{n}",
            lead_agency=council,
            opened_at=now - datetime.timedelta(days=3),
            exploitation_types=["sexual"],
        )
    return {"partnership": partnership}


@pytest.mark.browser
def test_partnership_manager_filters_the_dashboard_and_downloads_a_table(
    page: Any,
    visit: Callable[..., Any],
    axe_check: Callable[..., Any],
    story: dict[str, Any],
    log_in: Callable[[str], None],
) -> None:
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and "favicon.ico" not in message.location.get("url", "")
            and errors.append(f"{message.text} at {message.location.get('url')}")
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in("pam")
    page.get_by_role("link", name="Dashboards").click()
    expect(page.get_by_role("heading", name="Dashboards", level=1)).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="Northshire Partnership").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Northshire Partnership")
    axe_check(page)

    page.get_by_label("Exploitation type", exact=True).select_option("labour")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"exploitation_type=labour"))
    expect(page.get_by_label("Exploitation type", exact=True)).to_have_value("labour")
    axe_check(page)

    # The chart of cases by exploitation type is drawn, and its table is beside it.
    section = page.locator("#table-cases_by_exploitation_type")
    canvas = section.locator("canvas")
    expect(canvas).to_have_attribute("data-rendered", "true")
    drawn = canvas.evaluate("c => Boolean(window.Chart.getChart(c)) && c.width > 0")
    assert drawn
    table = section.get_by_role("table")
    expect(table.locator("caption")).to_contain_text("Cases opened by exploitation type")
    labour = table.get_by_role("row", name="Labour")
    expect(labour.get_by_role("cell")).to_have_text(["14", "0", "14"])
    # Two cases opened five weeks ago: that month is hidden, in the table and the chart.
    months = page.locator("#table-cases_by_month").get_by_role("table")
    expect(months.locator("td.suppressed").first).to_have_text("<10")
    gaps = page.evaluate(
        "() => JSON.parse(document.getElementById('chart-data-cases_by_month').textContent)"
        ".datasets[0].data.filter(v => v === null).length"
    )
    assert gaps >= 1

    with page.expect_download() as download:
        section.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    body = Path(download.value.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0] == "Exploitation type,Not county lines,County lines,Cases (each counted once)"
    assert "Labour,14,0,14" in lines
    assert "Sexual,0,0,0" in lines  # filtered out
    assert lines[-1] == "Cases (each counted once),14,0,14"

    page.get_by_role("link", name="Printable report").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Northshire Partnership")
    expect(page.locator(".report-meta")).to_contain_text("Labour")
    axe_check(page)
    page.get_by_role("link", name="Back to the dashboard").click()

    page.get_by_role("button", name="Export all tables (ZIP of CSVs)").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Export of")
    expect(page.get_by_role("link", name="Download the ZIP")).to_be_visible()
    axe_check(page)
    with page.expect_download() as archive:
        page.get_by_role("link", name="Download the ZIP").click()
    assert archive.value.suggested_filename.endswith(".zip")
    # No script error and nothing refused by the content security policy on the way.
    assert not errors, errors
