"""The audit actions of dashboards (see ``audit.audit_actions`` for the convention).
``detail`` carries the dashboard's kind and id, the filters as query parameters and, for a
CSV file, the table's key: never a number of the dashboard."""

from __future__ import annotations

import enum


@enum.unique
class DashboardAction(enum.StrEnum):
    VIEWED = "dashboard.viewed"
    CSV_DOWNLOADED = "dashboard.csv_downloaded"
    EXPORT_REQUESTED = "dashboard.export_requested"
    EXPORT_DOWNLOADED = "dashboard.export_downloaded"
