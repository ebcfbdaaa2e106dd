"""The error summary of a page (GOV.UK Design System, "Error summary").

``base.html`` asks ``{% forms_with_errors as error_summary_forms %}`` before its
``<title>``: the bound forms of the page's context that have errors. With any, the title
starts with "Error: " and the top of ``<main>`` shows ``_error_summary.html``, one box for
the whole page whatever its forms are called (``form``, ``note_form``, ``forms.approve``,
``filter.form``...), each error a link to its field.

A page decides otherwise in one of two ways:

* its view puts ``error_summary_forms`` (a list of forms) in the context: those forms,
  and no others, are summarised (the title follows);
* its template overrides ``{% block error_summary %}`` (e.g. empty, to show none).

Each form summarised is marked ``error_summary_shown``: the form renderer
(``django/forms/div.html``) then leaves out its non-field errors, already in the summary.
A form rendered outside ``base.html`` (a fragment) keeps them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import django_filters
from django import template
from django.forms import BaseForm

register = template.Library()

CONTEXT_NAME = "error_summary_forms"


def _forms_in(value: Any) -> Iterator[BaseForm]:
    """The forms a context value is or holds: a form, a FilterSet's form, the forms of a
    dict. ``type()`` rather than ``isinstance``: a lazy value (the CSRF token, the user)
    is not evaluated by being looked at here."""
    kind = type(value)
    if issubclass(kind, BaseForm):
        yield value
    elif issubclass(kind, django_filters.FilterSet):
        yield value.form
    elif kind is dict:
        for item in value.values():
            if issubclass(type(item), BaseForm):
                yield item


@register.simple_tag(takes_context=True)
def forms_with_errors(context: template.Context) -> list[BaseForm]:
    """The page's bound forms with errors, each once, in the order of the context."""
    named = context.get(CONTEXT_NAME)
    candidates: Iterable[Any]
    if named is not None:
        candidates = named
    else:
        candidates = (form for value in context.flatten().values() for form in _forms_in(value))
    found: list[BaseForm] = []
    for form in candidates:
        if form.is_bound and form.errors and all(form is not seen for seen in found):
            form.error_summary_shown = True
            found.append(form)
    return found
