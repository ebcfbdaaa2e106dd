"""The FilterSet base of every app's filters."""

from __future__ import annotations

from typing import Any

import django_filters


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet, building its form class once per FilterSet class.

    django-filter creates a new form class on every request (``type(...)`` over fresh
    copies of the filters' fields); a list page paid 2 ms for it (P5 of the benchmark).
    The class depends only on the declared filters, so a subclass whose filters' fields
    vary per request (choices from the request) must not use this base. Each form
    instance still deep-copies its fields, so changing a field on one form changes no
    other.
    """

    def get_form_class(self) -> Any:
        cls = type(self)
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            cls._form_class = form_class
        return form_class
