"""Form pages, written one way in every app: a form bound on POST only, a service's
refusal shown on the form, and the write of a form page (``form_page``).

Imports no app: the view does its own access checks (403, 404) before it gets here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from core.errors import IllegalTransition

Saved = TypeVar("Saved")


def posted_data(request: HttpRequest) -> Any:
    """Bind forms on POST only (an empty POST is still a submission, with its errors)."""
    return request.POST if request.method == "POST" else None


def apply_service_errors(form: BaseForm, error: ValidationError) -> None:
    """A service's refusal, shown on the form: field errors by field, the rest on top.
    The browser's twin of core.api.as_drf_validation_error."""
    if hasattr(error, "error_dict"):
        for field, field_messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_messages)
    else:
        form.add_error(None, error.messages)


def form_page(
    request: HttpRequest,
    form: BaseForm,
    *,
    service: Callable[[], Saved],
    success: str | Callable[[Saved], str],
    redirect_to: str | Callable[[Saved], str],
    page: Callable[[], HttpResponse],
    illegal_transition_to: str | None = None,
) -> HttpResponse:
    """The write of a form page. On a POST whose form is valid, call ``service`` (a
    closure over the form's cleaned data): done, say ``success`` and go to
    ``redirect_to`` (each a value, or a function of what the service returned). A
    ``ValidationError`` from the service goes onto the form. An ``IllegalTransition`` is
    a ``ValidationError`` like any other, unless the page names ``illegal_transition_to``:
    then it is said as a message, and the user goes there (the browser's 409).

    Otherwise (a GET, or a form with errors) ``page`` shows the form, with its errors
    and the page's error summary, in the status the page renders with."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = service()
        except ValidationError as error:
            if illegal_transition_to is not None and isinstance(error, IllegalTransition):
                messages.error(request, " ".join(error.messages))
                return redirect(illegal_transition_to)
            apply_service_errors(form, error)
        else:
            messages.success(request, success(saved) if callable(success) else success)
            return redirect(redirect_to(saved) if callable(redirect_to) else redirect_to)
    return page()
