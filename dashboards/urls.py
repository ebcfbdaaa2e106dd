from collections.abc import Callable
from typing import Any

from django.urls import URLPattern, path

from . import views
from .scope import AGENCY, PARTNERSHIP

app_name = "dashboards"


def _per_kind(route: str, view: Callable[..., Any], name: str) -> list[URLPattern]:
    """The same page for a partnership's dashboard and for an agency's."""
    return [
        path(f"{kind}/<int:pk>/{route}", view, {"kind": kind}, name=f"{kind}_{name}")
        for kind in (PARTNERSHIP, AGENCY)
    ]


urlpatterns = [
    path("", views.dashboard_list, name="list"),
    *_per_kind("", views.dashboard, "dashboard"),
    *_per_kind("csv/<slug:table_key>/", views.table_csv, "csv"),
    *_per_kind("report/", views.report, "report"),
    *_per_kind("export/", views.export_create, "export"),
    path("exports/<int:pk>/", views.export_detail, name="export_detail"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
]
