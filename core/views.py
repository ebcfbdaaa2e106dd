"""Error pages that look like the rest of Concord and say nothing about what exists
(``handler400``, ``handler403``, ``handler404`` and ``handler500`` in ``config.urls``).

Under ``/api/`` the answer is the API's JSON (``{"detail": ...}``), as DRF gives inside
a view: a path no route matches, or an id a route's converter refuses (``/cases/1.5/``),
is the same JSON 404 as a record that does not exist.
"""

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def bad_request(request: HttpRequest, exception: Any = None) -> HttpResponse:
    """Django's refusals of a request (``SuspiciousOperation``) that reach no view: a body
    over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, anything else a 400."""
    if isinstance(exception, RequestDataTooBig):
        if _is_api(request):
            return JsonResponse({"detail": "The request body is too large."}, status=413)
        return render(request, "errors/413.html", status=413)
    if _is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return render(request, "errors/400.html", status=400)


def forbidden(request: HttpRequest, exception: Any = None) -> HttpResponse:
    message = str(exception) if exception is not None and str(exception) else ""
    if _is_api(request):
        return JsonResponse(
            {"detail": message or "You do not have permission to perform this action."},
            status=403,
        )
    return render(request, "errors/403.html", {"message": message}, status=403)


def not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "A server error occurred."}, status=500)
    return render(request, "errors/500.html", status=500)
