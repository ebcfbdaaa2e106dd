"""The API's input contract: a route reads the body it documents and nothing else.

Walked from the OpenAPI schema drf-spectacular generates (every POST, PUT and PATCH, so
a new route is covered without editing this module), with the objects and the callers
of the permission matrix (``build_world``, and the route's matrix row: its URL
arguments, a valid body, and a role allowed to call it). For each route and method:

- sent with every read-only field of its request and response serializers, each with
  a plausible but wrong value (``"status": "closed"``, ``"id": 999999``, a real agency
  id for ``lead_agency``, a date in 2020), and a field it does not have, it never
  answers 5xx, and answers exactly as without them, or with a 400 naming one of them:
  a read-only field never reaches what is stored;
- ``OPTIONS`` lists, for that method, the fields of the serializer the route reads
  the body with: the schema's request body, and every field a bad body is refused on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.permission_matrix import (
    ROLES,
    Expect,
    World,
    build_world,
    client_for,
    matrix,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_root")]

BODY_METHODS = ("post", "put", "patch")
UNKNOWN_FIELD = "not_a_field_of_this_route"

# The answers a route's matrix row may promise a caller, best first: the caller we
# borrow is one the route serves (2xx), else one it refuses for their body (400) or the
# record's state (409); a route nobody may call (PUT on a case: 405) is still sent.
PREFERENCE = (201, 200, 204, 400, 409, 405, 403, 404, 401)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _upload(world: World, role: str) -> dict[str, Any]:
    return {
        "file": SimpleUploadedFile("scan.png", PNG, content_type="image/png"),
        "kind": "photo",
        "purpose": "support",
    }


# Routes whose matrix row sends a body that is refused on purpose (the matrix shows a
# caller is let through); here they need one the route accepts.
VALID_BODIES: dict[str, Callable[[World, str], dict[str, Any]]] = {
    "api:case-documents": _upload,
}


@dataclass
class Operation:
    """One method of one route, with the matrix row it borrows a caller from."""

    name: str
    method: str
    expect: Expect
    path: str  # the schema's path template
    operation: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} ({self.name})"


def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _template_regex(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\{\w+\\}", "[^/]+", re.escape(path)) + "$")


def _body_operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in BODY_METHODS
    ]


def _operations(world: World, schema: dict[str, Any]) -> tuple[list[Operation], list[str]]:
    """Every (route, method) of the schema that takes a body, paired with each matrix row
    of that route and method; and those with no matrix row to borrow a caller from."""
    documented = [
        (_template_regex(path), path, method, operation)
        for path, method, operation in _body_operations(schema)
    ]
    found: list[Operation] = []
    covered: set[tuple[str, str]] = set()
    for name, expectations in sorted(matrix().items()):
        for expect in expectations:
            if not expect.api or expect.method.lower() not in BODY_METHODS:
                continue
            try:
                url = reverse(name, kwargs=expect.kwargs(world))
            except NoReverseMatch:
                continue  # a stale row: the matrix's own coverage test names it
            for regex, path, method, operation in documented:
                if method == expect.method.lower() and regex.match(url):
                    found.append(Operation(name, method, expect, path, operation))
                    covered.add((path, method))
    missing = [f"{m.upper()} {p}" for _, p, m, _ in documented if (p, m) not in covered]
    return found, missing


def _caller(expect: Expect) -> str:
    def rank(role: str) -> int:
        wanted = expect.statuses[role]
        statuses = wanted if isinstance(wanted, frozenset) else {wanted}
        return min(PREFERENCE.index(s) if s in PREFERENCE else len(PREFERENCE) for s in statuses)

    return min(ROLES, key=rank)


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node or "allOf" in node or "oneOf" in node:
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
        else:
            node = (node.get("allOf") or node.get("oneOf"))[0]
    return node


def _body_schema(schema: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    if not content:
        return None
    media = "application/json" if "application/json" in content else next(iter(content))
    return _resolve(schema, content[media]["schema"])


def _response_schema(schema: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    for code, response in sorted(operation.get("responses", {}).items()):
        if code.startswith("2"):
            for content in response.get("content", {}).values():
                found = _resolve(schema, content["schema"])
                if found.get("type") == "array":
                    found = _resolve(schema, found.get("items", {}))
                return found
    return {}


def _writable(body: dict[str, Any] | None) -> set[str]:
    if body is None:
        return set()
    return {name for name, prop in body.get("properties", {}).items() if not prop.get("readOnly")}


def _wrong_value(schema: dict[str, Any], name: str, prop: dict[str, Any], world: World) -> Any:
    """A plausible value for a field the caller may not set, never the one the server
    would choose: the last choice of an enum (``closed`` for a case's status), an id
    that exists (an agency's) or none (``id``), a date in 2020."""
    prop = _resolve(schema, prop)
    choices = [value for value in prop.get("enum", []) if value not in ("", None)]
    if choices:
        return choices[-1]
    kind, form = prop.get("type"), prop.get("format")
    if kind == "integer":
        return 999999 if name == "id" else world.agencies["council"].pk
    if kind == "number":
        return 999999.5
    if kind == "boolean":
        return True
    if kind == "array":
        return [_wrong_value(schema, name, prop.get("items", {}), world)]
    if kind == "object":
        return {"wrong": "value"}
    if form == "date-time":
        return "2020-01-01T00:00:00Z"
    if form == "date":
        return "2020-01-01"
    if form == "uri":
        return "https://example.org/wrong"
    return "wrong"


def _read_only_fields(
    schema: dict[str, Any], operation: dict[str, Any], world: World
) -> dict[str, Any]:
    """Every field of the route's request and response serializers the caller may not
    set, with a wrong value, and a field the route does not have."""
    body = _body_schema(schema, operation)
    writable = _writable(body)
    fields: dict[str, Any] = {}
    for source in (body or {}, _response_schema(schema, operation)):
        for name, prop in source.get("properties", {}).items():
            if name not in writable:
                fields.setdefault(name, _wrong_value(schema, name, prop, world))
    fields[UNKNOWN_FIELD] = "wrong"
    return fields


class _Rollback(Exception):
    pass


@dataclass
class Answer:
    status: int
    body: Any


def _send(
    world: World, op: Operation, role: str, body: dict[str, Any], *, options: bool = False
) -> Answer:
    """One request as ``role``, its writes rolled back (every request sees the world as
    built)."""
    url = reverse(op.name, kwargs=op.expect.kwargs(world))
    answer = Answer(0, None)
    try:
        with transaction.atomic():
            # client_for returns an APIClient when api=True; it is typed for both doors.
            client: APIClient = client_for(role, world, api=True)  # type: ignore[assignment]
            client.raise_request_exception = False  # a crash is an answer (500) here
            if options:
                response = client.options(url)
            else:
                multipart = any(isinstance(v, SimpleUploadedFile) for v in body.values())
                if multipart:
                    # Multipart carries text: a list or an object travels as its JSON.
                    body = {
                        k: json.dumps(v) if isinstance(v, list | dict) else v
                        for k, v in body.items()
                    }
                response = getattr(client, op.method)(
                    url, body, format="multipart" if multipart else "json"
                )
            content = response.content if not hasattr(response, "streaming_content") else b""
            answer = Answer(
                response.status_code,
                json.loads(content)
                if content and response.get("Content-Type", "").startswith("application/json")
                else None,
            )
            raise _Rollback
    except _Rollback:
        pass
    return answer


def _body(world: World, op: Operation, role: str) -> dict[str, Any]:
    make = VALID_BODIES.get(op.name, op.expect.data)
    return dict(make(world, role))


def _differences(a: Any, b: Any, path: str = "") -> Iterator[str]:
    """The paths (``results.0.id``) where two JSON documents differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a.keys() | b.keys():
            yield from _differences(a.get(key), b.get(key), f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _differences(x, y, f"{path}.{index}")
    elif a != b:
        yield path or "."


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return _schema()


def test_every_route_that_takes_a_body_has_a_caller_to_borrow(world, schema):
    """A route in the schema with no matrix row for its method would be skipped here
    silently; the matrix must say who may call it (and so lends us that caller)."""
    operations, missing = _operations(world, schema)
    assert operations
    assert not missing, f"no permission-matrix row to call these with: {missing}"


def test_read_only_and_unknown_fields_are_ignored_and_never_a_5xx(world, schema):
    operations, _missing = _operations(world, schema)
    failures = []
    for op in operations:
        role = _caller(op.expect)
        first = _send(world, op, role, _body(world, op, role))
        second = _send(world, op, role, _body(world, op, role))
        wrong = _read_only_fields(schema, op.operation, world)
        # The caller's own fields win: a read-only field is sent only where the body
        # does not already set a writable field of that name.
        sent = {**wrong, **_body(world, op, role)}
        answer = _send(world, op, role, sent)
        if answer.status >= 500 or first.status >= 500:
            failures.append(f"{op} as {role}: {first.status} without, {answer.status} with")
            continue
        if answer.status != first.status:
            named = set(answer.body or {}) & set(wrong) if isinstance(answer.body, dict) else ()
            if not (answer.status == 400 and named):
                failures.append(
                    f"{op} as {role}: {first.status} without read-only fields, "
                    f"{answer.status} with them: {answer.body}"
                )
            continue
        if 200 <= answer.status < 300:
            # What differs between two clean calls (new ids, times) may differ here too;
            # nothing else may.
            volatile = set(_differences(first.body, second.body))
            changed = set(_differences(first.body, answer.body)) - volatile
            if changed:
                failures.append(f"{op} as {role}: read-only fields changed {sorted(changed)}")
    assert not failures, "\n".join(failures)


def test_no_documented_field_is_a_5xx(world, schema):
    """The schema can be wrong about what a route accepts (``status`` on a new case was
    shown writable and answered 500): each documented field, sent alone on top of a
    valid body with a plausible value, is taken or refused, never a crash."""
    operations, _missing = _operations(world, schema)
    failures = []
    for op in operations:
        role = _caller(op.expect)
        body = _body_schema(schema, op.operation) or {}
        for name in sorted(_writable(body) - set(_body(world, op, role))):
            value = _wrong_value(schema, name, body["properties"][name], world)
            answer = _send(world, op, role, {**_body(world, op, role), name: value})
            if answer.status >= 500:
                failures.append(f"{op} as {role} with {name}={value!r}: {answer.status}")
    assert not failures, "\n".join(failures)


def test_options_lists_the_fields_each_route_reads(world, schema):
    operations, _missing = _operations(world, schema)
    failures = []
    for op in operations:
        role = _caller(op.expect)
        if _send(world, op, role, _body(world, op, role)).status in (401, 403, 404, 405):
            continue  # OPTIONS describes a method only to a caller who may use it
        options = _send(world, op, role, {}, options=True)
        if options.status in (401, 403):
            continue  # a route may refuse OPTIONS itself (the token route: tokens only)
        described = (options.body or {}).get("actions", {}).get(op.method.upper())
        if described is None:
            failures.append(f"{op} as {role}: OPTIONS ({options.status}) does not describe it")
            continue
        listed = {name for name, info in described.items() if not info.get("read_only")}
        documented = _writable(_body_schema(schema, op.operation))
        if listed != documented:
            failures.append(f"{op}: OPTIONS lists {sorted(listed)}, schema {sorted(documented)}")
        # The serializer the route validates with: every field an empty body is refused
        # on is one OPTIONS lists.
        refused = _send(world, op, role, {})
        if refused.status == 400 and isinstance(refused.body, dict):
            named = set(refused.body) - {"non_field_errors", "detail"}
            if not named <= listed:
                failures.append(
                    f"{op}: an empty body is refused on {sorted(named - listed)}, "
                    f"which OPTIONS does not list ({sorted(listed)})"
                )
    assert not failures, "\n".join(failures)
