"""The OpenAPI description of the dashboards API: its query parameters and the shape of
``PublishedDashboard.as_dict()``, written out as a schema (the body is not a model, and a
published count is a number or the suppression marker)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from casework.models import ExploitationType

from ..filters import LONGEST_PERIOD_YEARS

FILTER_PARAMETERS = [
    OpenApiParameter(
        "from",
        OpenApiTypes.DATE,
        description="First day of the period (YYYY-MM-DD). Without `from` and `to`, the "
        "last twelve calendar months, this one included.",
    ),
    OpenApiParameter(
        "to",
        OpenApiTypes.DATE,
        description="Last day of the period, included (YYYY-MM-DD); on or after `from`, "
        f"at most {LONGEST_PERIOD_YEARS} years after it.",
    ),
    OpenApiParameter(
        "agency",
        OpenApiTypes.INT,
        description="Only this agency's numbers: the id of one of the dashboard's agencies.",
    ),
    OpenApiParameter(
        "region",
        OpenApiTypes.STR,
        description="Only this region (a case's region, an intelligence report's area), "
        "ignoring case.",
    ),
    OpenApiParameter(
        "exploitation_type",
        OpenApiTypes.STR,
        enum=list(ExploitationType.values),
        description="Only cases (and reports) of this exploitation type.",
    ),
]


def _string(description: str = "") -> dict[str, Any]:
    return {"type": "string", **({"description": description} if description else {})}


# A published count: the number, or the suppression marker ("<10").
COUNT: dict[str, Any] = {
    "oneOf": [{"type": "integer"}, {"type": "string", "example": "<10"}],
    "description": 'A count, or the suppression marker (e.g. "<10") when it is hidden.',
}
NULLABLE_COUNT: dict[str, Any] = {**COUNT, "nullable": True}

FIGURE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "key": _string(),
        "label": _string(),
        "kind": {"type": "string", "enum": ["count", "share", "median"]},
        "value": {
            "oneOf": [{"type": "number"}, {"type": "string"}],
            "nullable": True,
            "description": 'The count; the share in percent or the median, to one decimal; "<10" '
            'for a hidden count, "suppressed" for a hidden share or median; null when there '
            "is nothing to measure.",
        },
        "n": {
            **NULLABLE_COUNT,
            "description": "The share's denominator or the median's "
            "number of values (a published count); null for a count.",
        },
        "unit": _string('"%" for a share, "hours" or "days" for a median.'),
        "note": _string(),
        "suppressed": {"type": "boolean"},
    },
    "required": ["key", "label", "kind", "value", "n", "unit", "note", "suppressed"],
}

COLUMN: dict[str, Any] = {
    "type": "object",
    "properties": {"key": _string(), "label": _string()},
    "required": ["key", "label"],
}

ROW: dict[str, Any] = {
    "type": "object",
    "properties": {
        "key": _string(),
        "label": _string(),
        "values": {"type": "array", "items": COUNT, "description": "One per column."},
        "total": {**NULLABLE_COUNT, "description": "The row's total; null without one."},
        "figures": {"type": "array", "items": FIGURE, "description": "One per figure column."},
    },
    "required": ["key", "label", "values", "total", "figures"],
}

TABLE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "key": _string(),
        "title": _string(),
        "row_header": _string(),
        "columns": {"type": "array", "items": COLUMN},
        "figure_columns": {"type": "array", "items": COLUMN},
        "rows": {"type": "array", "items": ROW},
        "totals": {
            "type": "object",
            "nullable": True,
            "description": "The totals row; null when the table has none.",
            "properties": {
                "label": _string(),
                "values": {"type": "array", "items": COUNT},
                "total": NULLABLE_COUNT,
                "figures": {"type": "array", "items": FIGURE},
            },
        },
        "note": _string(),
    },
    "required": ["key", "title", "row_header", "columns", "figure_columns", "rows", "totals"],
}

SECTION: dict[str, Any] = {
    "type": "object",
    "properties": {
        "key": _string(),
        "title": _string(),
        "note": _string(),
        "tables": {"type": "array", "items": TABLE},
        "figures": {"type": "array", "items": FIGURE},
    },
    "required": ["key", "title", "tables", "figures"],
}

DASHBOARD: dict[str, Any] = {
    "type": "object",
    "description": "A published dashboard: aggregates only, every count from 1 to the "
    'threshold minus one (and any cell that would give one away) shown as "<10".',
    "properties": {
        "scope": {
            "type": "object",
            "properties": {
                "kind": {"type": "string", "enum": ["partnership", "agency"]},
                "id": {"type": "integer"},
                "name": _string(),
            },
            "required": ["kind", "id", "name"],
        },
        "filters": {
            "type": "object",
            "description": "The filters applied, as the query parameters that give them.",
            "properties": {
                "from": {"type": "string", "format": "date", "nullable": True},
                "to": {"type": "string", "format": "date", "nullable": True},
                "agency": {"type": "integer", "nullable": True},
                "region": {"type": "string", "nullable": True},
                "exploitation_type": {"type": "string", "nullable": True},
            },
        },
        "generated_at": {"type": "string", "format": "date-time"},
        "suppression_threshold": {"type": "integer"},
        "sections": {"type": "array", "items": SECTION},
    },
    "required": ["scope", "filters", "generated_at", "suppression_threshold", "sections"],
}

FIELD_ERRORS: dict[str, Any] = {
    "type": "object",
    "description": "What is wrong with each query parameter, by its name.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "example": {"to": ["The end date must be on or after the start date."]},
}
