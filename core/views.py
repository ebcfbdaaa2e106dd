"""Error pages that look like the rest of Concord and say nothing about what exists
(``handler403``, ``handler404`` and ``handler500`` in ``config.urls``)."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def forbidden(request: HttpRequest, exception: Any = None) -> HttpResponse:
    message = str(exception) if exception is not None and str(exception) else ""
    return render(request, "errors/403.html", {"message": message}, status=403)


def not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "errors/500.html", status=500)
