"""The error summary (GOV.UK Design System) on every page with a form that has errors:
"There is a problem" at the top of the main content, each error a link to its field, the
title starting "Error: ". The browser journeys check that it takes the focus
(tests/browser/test_login_journey.py, test_two_factor_journey.py); the tag that finds the
forms is tested in core/tests/test_error_summary_tag.py."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from casework import services as casework

pytestmark = pytest.mark.django_db


class Summary(HTMLParser):
    """The error summaries of a page: how many, the first one's attributes, heading, and
    items as (text, href of its link or None)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.count = 0
        self.attrs: dict[str, str | None] = {}
        self.heading = ""
        self.items: list[tuple[str, str | None]] = []
        self._depth = 0  # <div> nesting inside the summary being read
        self._in_heading = False
        self._item: list[Any] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if self._depth:
            if tag == "div":
                self._depth += 1
            elif tag == "h2":
                self._in_heading = True
            elif tag == "li":
                self._item = ["", None]
            elif tag == "a" and self._item is not None:
                self._item[1] = found.get("href")
        elif tag == "div" and "data-error-summary" in found:
            self.count += 1
            if self.count == 1:
                self._depth = 1
                self.attrs = found

    def handle_endtag(self, tag: str) -> None:
        if not self._depth:
            return
        if tag == "div":
            self._depth -= 1
        elif tag == "h2":
            self._in_heading = False
        elif tag == "li" and self._item is not None:
            self.items.append((" ".join(self._item[0].split()), self._item[1]))
            self._item = None

    def handle_data(self, data: str) -> None:
        if self._in_heading:
            self.heading += data
        elif self._item is not None:
            self._item[0] += data

    @property
    def links(self) -> list[str | None]:
        return [href for _, href in self.items]


def title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.DOTALL)
    assert found is not None
    return " ".join(found.group(1).split())


def summary_of(response: Any) -> Summary:
    html = response.content.decode()
    summary = Summary(html)
    assert summary.count == 1, f"{summary.count} error summaries"
    assert summary.heading.strip() == "There is a problem"
    assert summary.attrs.get("aria-labelledby") == "error-summary-title"
    assert summary.attrs.get("tabindex") == "-1"
    assert 'id="error-summary-title"' in html
    assert title(html).startswith("Error: ")
    # Every link goes to an element of the page.
    for href in summary.links:
        if href is not None:
            assert f'id="{href[1:]}"' in html, href
    # Before the page's own heading: the top of the main content.
    assert html.index("data-error-summary") < html.index("<h1")
    return summary


# --- Pages ------------------------------------------------------------------------------


def test_a_page_without_errors_has_no_summary(client):
    html = client.get("/accounts/login/").content.decode()
    assert Summary(html).count == 0
    assert title(html).startswith("Log in")
    # The script that focuses it is on every page (no inline script: CSP 'self').
    assert "/static/js/error_summary.js" in html


def test_login_without_a_password_links_to_the_password(client):
    response = client.post("/accounts/login/", {"username": "alice", "password": ""})
    summary = summary_of(response)
    assert summary.items == [("This field is required.", "#id_password")]
    assert title(response.content.decode()).startswith("Error: Log in")
    # The field keeps its own message.
    assert 'id="id_password_error"' in response.content.decode()


def test_a_wrong_password_is_in_the_summary_once(client, caseworker):
    response = client.post("/accounts/login/", {"username": "alice", "password": "wrong-one"})
    summary = summary_of(response)
    [(text, href)] = summary.items
    assert text.startswith("Please enter a correct username and password.")
    assert href is None  # the form's own error: no field to go to
    # Not repeated in an alert inside the form.
    assert response.content.decode().count("Please enter a correct username and password") == 1


def test_the_case_form_links_each_error_to_its_field(login, caseworker):
    response = login(caseworker).post(
        "/cases/new/",
        {
            "exploitation_types": ["bogus"],
            "risk_level": "extreme",
            "date_of_birth": "2020-02-31",
            "estimated_age": "200",
        },
    )
    summary = summary_of(response)
    # In the order of the form; a group of checkboxes links to its first box.
    assert summary.links == [
        "#id_exploitation_types_0",
        "#id_risk_level",
        "#id_gender",
        "#id_how_identified",
        "#id_date_of_birth",
        "#id_estimated_age",
    ]
    assert ("Ensure this value is less than or equal to 120.", "#id_estimated_age") in (
        summary.items
    )
    html = response.content.decode()
    assert 'id="id_estimated_age_error"' in html  # inline too


def test_the_agency_member_form_links_each_error_to_its_field(login, agency_admin):
    response = login(agency_admin).post(
        "/agency/users/new/", {"username": "", "email": "not-an-email", "role": "emperor"}
    )
    summary = summary_of(response)
    assert summary.links == ["#id_username", "#id_email", "#id_role"]
    assert summary.items[1] == ("Enter a valid email address.", "#id_email")


def test_a_form_not_called_form_gets_the_summary_too(login, caseworker):
    """The case page's note form is ``note_form`` (ids ``note_...``)."""
    case = casework.case_create(actor=caseworker, exploitation_types=["labour"], risk_level="high")
    response = login(caseworker).post(f"/cases/{case.pk}/notes/new/", {"visibility": "nobody"})
    summary = summary_of(response)
    assert summary.links == ["#note_body", "#note_visibility"]


def test_a_filter_with_a_wrong_value_gets_the_summary(login, caseworker):
    response = login(caseworker).get("/cases/?status=bogus")
    summary = summary_of(response)
    assert summary.links == ["#id_status"]
