"""The fixture dashboard as it may be shown: suppressed at the default threshold and at
a lower one (worked out by hand from the raw numbers in ``test_measures``), and never a
person in it."""

from __future__ import annotations

import json

import pytest

from dashboards.measures import build_dashboard
from dashboards.suppression import publish

from . import dataset
from .helpers import shown


@pytest.fixture
def dashboard(data, northshire, year):
    return build_dashboard(northshire, year)


def test_at_ten_every_small_count_is_hidden_and_the_cases_opened_stay_shown(dashboard):
    published = publish(dashboard)
    # Risk levels 5, 3, 3, 1 of 12: all small; the 12 is shown wherever it appears.
    assert shown(published.table("cases_by_risk_level")) == [["<10"]] * 4 + [[12]]
    # Other nationalities 11 and not recorded 1: the 1 is small, so 11 goes with it.
    assert shown(published.table("cases_by_nationality")) == [["<10"], ["<10"], [12]]
    # Charged 2 of 12: the 10 not (yet) charged would give it away.
    funnel = shown(published.table("justice_funnel"))
    assert funnel[2] == ["<10", "<10", 12]
    # Closed in the period: 5 in all, so its column hides its zeros too.
    months = shown(published.table("cases_by_month"))
    assert [line[1] for line in months] == ["<10"] * 13
    assert [line[0] for line in months] == [
        "<10", "<10", "<10", "<10", 0, "<10", "<10", 0, 0, 0, 0, "<10", 12,
    ]  # fmt: skip


def test_at_ten_shares_and_medians_from_few_are_suppressed(dashboard):
    published = publish(dashboard)
    figure = published.figure("files_to_prosecutors_share_of_cases")
    # 3 of 12: n is shown (every case opened), the share is not (3 is small).
    assert (figure.value, figure.n) == ("suppressed", 12)
    figure = published.figure("median_days_to_rg")
    assert (figure.value, figure.n) == ("suppressed", "<10")
    assert published.figure("people_in_recovery_period_now").value == "<10"


def test_at_three(settings, data, northshire, year):
    settings.SUPPRESSION_THRESHOLD = 3
    published = publish(build_dashboard(northshire, year))
    assert published.threshold == 3
    # Risk 5, 3, 3, 1: the 1 is hidden; the smallest other (medium, 3) protects it.
    assert shown(published.table("cases_by_risk_level")) == [[5], ["<3"], [3], ["<3"], [12]]
    # Named at this threshold: Albania (4); others 7; not recorded 1, protected by 4.
    table = published.table("cases_by_nationality")
    assert [row.label for row in table.rows] == [
        "Albania",
        "Other nationalities",
        "Not recorded",
    ]
    assert shown(table) == [["<3"], [7], ["<3"], [12]]
    # Types: the small rows (domestic servitude, unknown, none: 1 each) hide whole,
    # zeros included; labour hides 4 as well, since 5 - 4 leaves 1 case.
    table = published.table("cases_by_exploitation_type")
    types = {row.key: [*row.values, row.total] for row in table.rows}
    assert types == {
        "labour": ["<3", "<3", 5],
        "sexual": [3, 0, 3],
        "criminal": [0, 3, 3],
        "domestic_servitude": ["<3", "<3", "<3"],
        "organ_harvesting": [0, 0, 0],
        "unknown": ["<3", "<3", "<3"],
        "none": ["<3", "<3", "<3"],
    }
    assert table.grand_total == 12
    # Files to prosecutors: 3 of 12 = 25%.
    figure = published.figure("files_to_prosecutors_share_of_cases")
    assert (figure.value, figure.n) == (25.0, 12)
    # Days to RG: median 7 of 5 decisions; RG positive 4 and negative 1 (hidden), so
    # the n is hidden with it.
    figure = published.figure("median_days_to_rg")
    assert (figure.value, figure.n) == ("suppressed", "<3")


def test_no_person_leaves_in_the_published_dashboard(dashboard):
    text = json.dumps(publish(dashboard).as_dict())
    for secret in dataset.SECRETS:
        assert secret not in text


def test_the_published_dashboard_is_plain_json(dashboard, northshire):
    data = json.loads(json.dumps(publish(dashboard).as_dict()))
    assert data["scope"] == {"kind": "partnership", "id": northshire.id, "name": northshire.name}
    assert data["filters"] == {
        "from": "2025-01-01",
        "to": "2025-12-31",
        "agency": None,
        "region": None,
        "exploitation_type": None,
    }
    assert data["suppression_threshold"] == 10
    assert [section["key"] for section in data["sections"]] == [
        "cases",
        "needs",
        "referrals",
        "nrm",
        "evidence",
        "justice",
        "intelligence",
    ]
    referrals = data["sections"][2]["tables"][0]
    assert [column["key"] for column in referrals["figure_columns"]] == [
        "acceptance_rate",
        "median_hours_to_answer",
        "answered_in_time",
    ]
    assert referrals["totals"]["figures"][0] == {
        "key": "acceptance_rate_total",
        "label": "Acceptance rate",
        "kind": "share",
        "value": "suppressed",
        "n": "<10",
        "unit": "%",
        "note": "",
        "suppressed": True,
    }


def test_a_dashboard_is_published_at_the_threshold_it_was_built_for(settings, dashboard):
    assert dashboard.threshold == 10
    settings.SUPPRESSION_THRESHOLD = 3
    assert publish(dashboard).threshold == 10
    with pytest.raises(ValueError, match="built for a threshold of 10, not 3"):
        publish(dashboard, 3)
