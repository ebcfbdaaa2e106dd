"""The OpenAPI schema is generated without a single warning: every warning so far has
been a schema that lied (a request body documented as another's, two enums under one
generated name, an operation id used twice, an authenticator it could not describe)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_schema_generates_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "schema.yml"
    # --fail-on-warn exits non-zero (SystemExit) on the first warning or error.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/auth/token/" in text and "knoxApiToken" in text
    assert "StatusA56Enum" not in text  # no generated names for colliding enums


# What fuzzing the API against its schema found the schema saying wrongly
# (config/tests/test_fuzz_api.py), each checked here as a fact of the schema.


@pytest.fixture(scope="module")
def schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_operation_documents_the_errors_it_may_answer(schema: dict) -> None:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            where = f"{method.upper()} {path}"
            if path != "/api/v1/auth/token/" or method != "post":
                assert {"401", "403"} <= codes, where  # the door, then the permission
            if "{" in path:
                assert "404" in codes, where  # absent or hidden: the same 404
            if method in ("post", "put", "patch", "delete") and "405" not in codes:
                assert {"400", "409"} <= codes, where
            if "requestBody" in operation:
                assert {"413", "415"} <= codes, where  # too large; a media type not read
    token = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert {"400", "429"} <= set(token)
    # A page past the last is DRF's 404.
    assert "404" in schema["paths"]["/api/v1/cases/"]["get"]["responses"]


def test_put_on_a_case_is_documented_as_the_405_it_answers(schema: dict) -> None:
    put = schema["paths"]["/api/v1/cases/{id}/"]["put"]
    assert "405" in put["responses"] and "200" not in put["responses"]
    assert "requestBody" not in put


@pytest.mark.parametrize("part", ["needs", "consents", "notes", "flags", "documents"])
def test_adding_a_part_of_a_case_is_documented_as_the_201_it_answers(
    schema: dict, part: str
) -> None:
    responses = schema["paths"][f"/api/v1/cases/{{id}}/{part}/"]["post"]["responses"]
    assert "201" in responses and "200" not in responses


def test_possible_duplicates_are_documented_as_the_plain_list_they_are(schema: dict) -> None:
    ok = schema["paths"]["/api/v1/cases/{id}/possible-duplicates/"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["type"] == "array"


def test_an_agency_without_an_intelligence_contact_answers_one_the_schema_allows(
    schema: dict,
) -> None:
    import jsonschema

    field = schema["components"]["schemas"]["ContactAgency"]["properties"]["intelligence_contact"]
    checker = jsonschema.Draft7Validator(field, format_checker=jsonschema.FormatChecker())
    assert checker.is_valid("")
    assert checker.is_valid("intel@police.example")
    assert "format" not in field or field.get("anyOf")


@pytest.mark.django_db
def test_a_body_in_a_media_type_not_read_answers_the_documented_415(client) -> None:
    response = client.post(
        "/api/v1/auth/token/", data="username=a&password=b", content_type="text/plain"
    )
    assert response.status_code == 415
    assert set(response.json()) == {"detail"}
