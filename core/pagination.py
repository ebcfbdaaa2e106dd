"""Page sizes for HTML lists, the same bounds as the API's (core.api.Pagination)."""

from django.http import HttpRequest

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


def page_size(request: HttpRequest, default: int = DEFAULT_PAGE_SIZE) -> int:
    """``?page_size=`` if it is a whole number, clamped to 1..100; otherwise ``default``."""
    try:
        wanted = int(request.GET.get("page_size", default))
    except ValueError:
        return default
    return max(1, min(MAX_PAGE_SIZE, wanted))
