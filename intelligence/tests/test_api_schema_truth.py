"""What the API says of a report is what it returns, at every level a reader may read it
at: each field the OpenAPI schema calls required is in the answer, and each null in the
answer is documented nullable. The parts a reader may not be shown (a C report's summary
before its conditions are acknowledged, the full text outside the originating agency)
are documented as sometimes absent (``may_be_absent``, core.schema)."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from agencies.models import User

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/intelligence/"


@pytest.fixture
def components(db: None) -> dict[str, Any]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return schema["components"]["schemas"]


def lies(component: dict[str, Any], answer: dict[str, Any]) -> list[str]:
    """What the schema says that the answer contradicts."""
    found = [
        f"{name}: required, absent" for name in component.get("required", ()) if name not in answer
    ]
    properties = component["properties"]
    found += [
        f"{name}: null, documented non-nullable"
        for name, value in answer.items()
        if value is None and not properties.get(name, {}).get("nullable")
    ]
    found += [f"{name}: returned, undocumented" for name in answer if name not in properties]
    return found


def test_a_report_answers_as_documented_at_every_level(
    api: Any, make_report: Any, analyst: User, immigration_analyst: User, components: dict[str, Any]
) -> None:
    report = make_report(
        analyst, handling_code="C", handling_conditions="Police contact before any visit."
    )
    url = f"{REPORTS}{report.pk}/"
    full = api(analyst).get(url).json()
    conditions = api(immigration_analyst).get(url).json()
    assert (full["level"], conditions["level"]) == ("full", "conditions")
    assert "summary" not in conditions  # so the schema must not call it required
    [row_before] = api(immigration_analyst).get(REPORTS).json()["results"]
    assert "summary" not in row_before
    api(immigration_analyst).post(f"{url}acknowledge-conditions/")
    summary = api(immigration_analyst).get(url).json()
    assert summary["level"] == "summary" and "full_text" not in summary

    for answer in (full, conditions, summary):
        assert lies(components["Report"], answer) == [], answer["level"]
    for row in (row_before, *api(analyst).get(REPORTS).json()["results"]):
        assert lies(components["ReportList"], row) == []
