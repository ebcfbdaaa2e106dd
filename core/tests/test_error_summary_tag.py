"""The tag behind the error summary (``{% load error_summary %}``, core's template tags):
which forms of a page's context it summarises. The pages themselves are tested in
config/tests/test_error_summary.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.template import Context, Template
from django.utils.functional import SimpleLazyObject

from core.templatetags.error_summary import forms_with_errors


class _Form(forms.Form):
    name = forms.CharField()


def test_the_tag_finds_forms_by_any_name_once_without_evaluating_lazy_values():
    def evaluated() -> Any:
        raise AssertionError("a lazy context value was evaluated")

    wrong, right, unbound = _Form(data={}), _Form(data={"name": "x"}), _Form()
    context = Context(
        {
            "user": SimpleLazyObject(evaluated),
            "note_form": wrong,
            "forms": {"approve": wrong, "decline": right},
            "other": unbound,
        }
    )
    assert forms_with_errors(context) == [wrong]
    assert wrong.error_summary_shown is True
    assert not hasattr(right, "error_summary_shown")


def test_a_view_may_name_the_forms_to_summarise():
    shown, ignored = _Form(data={}), _Form(data={})
    context = Context({"form": ignored, "error_summary_forms": [shown]})
    assert forms_with_errors(context) == [shown]


def test_the_library_loads_by_its_name_from_core():
    """``base.html`` says ``{% load error_summary %}``: core, an installed app, provides it."""
    wrong = _Form(data={})
    rendered = Template(
        "{% load error_summary %}{% forms_with_errors as found %}{{ found|length }}"
    ).render(Context({"form": wrong}))
    assert rendered == "1"
