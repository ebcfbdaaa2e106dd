"""Page sizes for HTML lists: the settings PAGE_SIZE and MAX_PAGE_SIZE, the same bounds
as the API's (core.api.Pagination)."""

from django.conf import settings
from django.http import HttpRequest


def page_size(request: HttpRequest) -> int:
    """``?page_size=`` if it is a whole number, clamped to 1..MAX_PAGE_SIZE; otherwise
    PAGE_SIZE."""
    default: int = settings.PAGE_SIZE
    try:
        wanted = int(request.GET.get("page_size", default))
    except ValueError:
        return default
    return max(1, min(settings.MAX_PAGE_SIZE, wanted))
