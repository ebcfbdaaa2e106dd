"""Bodies no client should send, at every API route, answer the API's JSON and never a
500: JSON nested thousands of levels deep is a 400 (even at the token endpoint, before
anyone signs in), a body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 logged as a warning
without a traceback, and a path or an id no route takes is a JSON 404. The pages answer
a body that is too large with a 413 page of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.parsers import JSONParser as DrfJSONParser

from core.api import MAX_JSON_DEPTH, JSONParser

pytestmark = pytest.mark.django_db

DEEP_LISTS = "[" * 5000 + "]" * 5000
DEEP_OBJECTS = '{"a":' * 5000 + "1" + "}" * 5000
TOO_BIG = '{"body": "' + "x" * (10 * 1024 * 1024) + '"}'


def _deep_but_parsable(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def open_case_url(api, caseworker) -> str:
    created = api(caseworker).post("/api/v1/cases/", {"risk_level": "standard"}, format="json")
    assert created.status_code == 201, created.content
    return f"/api/v1/cases/{created.json()['id']}/"


@pytest.mark.parametrize("body", [DEEP_LISTS, DEEP_OBJECTS], ids=["lists", "objects"])
def test_deeply_nested_json_at_the_token_endpoint_is_a_400(api, body):
    answer = api(None).post("/api/v1/auth/token/", body, content_type="application/json")
    assert answer.status_code == 400
    assert "nested" in answer.json()["detail"]


@pytest.mark.parametrize("body", [DEEP_LISTS, DEEP_OBJECTS], ids=["lists", "objects"])
@pytest.mark.parametrize(
    "path", ["", "notes/", "break-glass/", "needs/", "close/"], ids=lambda p: p or "case"
)
def test_deeply_nested_json_on_a_signed_in_route_is_a_400(
    api, caseworker, open_case_url, path, body
):
    url = f"{open_case_url}{path}" if path else "/api/v1/cases/"
    answer = api(caseworker).post(url, body, content_type="application/json")
    assert answer.status_code == 400, answer.content
    assert answer.json() == {
        "detail": f"JSON parse error - nested more than {MAX_JSON_DEPTH} levels deep."
    }


def test_json_nested_within_python_but_past_the_limit_is_a_400_too(api, caseworker):
    """Deep enough to walk a serializer or an error message into a RecursionError later,
    shallow enough for the parser to read."""
    body = _deep_but_parsable(MAX_JSON_DEPTH + 1)
    answer = api(caseworker).post("/api/v1/cases/", body, content_type="application/json")
    assert answer.status_code == 400
    assert "nested" in answer.json()["detail"]


def test_the_parser_takes_json_up_to_the_limit():
    import io

    parsed = JSONParser().parse(io.BytesIO(_deep_but_parsable(MAX_JSON_DEPTH).encode()))
    depth = 0
    while isinstance(parsed, list):
        parsed = parsed[0] if parsed else None
        depth += 1
    assert depth == MAX_JSON_DEPTH


def _api_views(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
            yield prefix + str(pattern.pattern), pattern.callback.cls


def test_every_api_route_reads_json_with_the_parser_that_refuses_deep_nesting():
    views = list(_api_views(get_resolver().url_patterns))
    assert len(views) > 20
    for route, view in views:
        json_parsers = [p for p in view.parser_classes if issubclass(p, DrfJSONParser)]
        assert all(issubclass(p, JSONParser) for p in json_parsers), route


@pytest.mark.parametrize(
    ("who", "url"),
    [(None, "/api/v1/auth/token/"), ("caseworker", "/api/v1/cases/")],
    ids=["token", "cases"],
)
def test_a_body_over_the_limit_is_a_413_warning_without_a_traceback(
    api, caseworker, caplog, who, url
):
    client = api(caseworker if who else None)
    with caplog.at_level(logging.INFO):
        answer = client.post(url, TOO_BIG, content_type="application/json")
    assert answer.status_code == 413
    assert answer["Content-Type"] == "application/json"
    assert "too large" in answer.json()["detail"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in caplog.records if r.exc_info]
    assert any(r.levelno == logging.WARNING for r in caplog.records)


def test_a_page_sent_a_body_over_the_limit_answers_the_413_page(login, caseworker, caplog):
    form = {"body": "x" * (6 * 1024 * 1024), "risk_level": "standard"}
    with caplog.at_level(logging.INFO):
        answer = login(caseworker).post("/cases/new/", form)
    assert answer.status_code == 413
    assert answer["Content-Type"].startswith("text/html")
    assert b"Too much was sent at once" in answer.content
    refused = [r for r in caplog.records if r.name == "django.security.RequestDataTooBig"]
    assert [(r.levelno, r.exc_info) for r in refused] == [(logging.WARNING, None)]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/no-such-route/",
        "/api/v1/cases/1.5/",
        "/api/v1/cases/1.5/break-glass/",
        "/api/v1/cases/abc/notes/",
        "/api/v1/referrals/1.5/accept/",
    ],
)
def test_a_path_no_api_route_takes_is_a_json_404(api, caseworker, url):
    for method in ("get", "post"):
        answer = getattr(api(caseworker), method)(url, {}, format="json")
        assert answer.status_code == 404, (method, url)
        assert answer.json() == {"detail": "Not found."}


def test_a_path_no_page_takes_is_still_the_404_page(login, caseworker):
    answer = login(caseworker).get("/cases/1.5/")
    assert answer.status_code == 404
    assert b"Page not found" in answer.content
