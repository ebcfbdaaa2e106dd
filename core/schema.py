"""The OpenAPI schema as the answers are: drf-spectacular's ``AutoSchema``, taught

- that a read-only field a serializer names in ``may_be_absent`` is left out of some
  answers (a part of a record the reader may not see), so the schema does not call it
  required;
- the error answers every route may give, which drf-spectacular leaves out (it documents
  the success alone): 400 for input it refuses, 401 without credentials, 403 past the
  door but not allowed (or without the second factor), 404 for a record that does not
  exist or is hidden from the caller (the same answer, by design), 409 for a change its
  record's state does not allow, 413 for a body too large and 415 for one in a media type
  the operation does not read, 429 for a throttled sign-in. Found by fuzzing the API
  against its schema (``config/tests/test_fuzz_api.py``): a schema that lists only 200
  tells a client nothing of the rest.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

# DRF's error bodies: ``{"detail": "..."}``, or for a refused input the messages by field
# (``{"field": ["..."], "non_field_errors": ["..."]}``), as core.api's handler answers.
DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
FIELD_ERRORS = {"type": "object", "additionalProperties": True}
CHANGES = {"post", "put", "patch", "delete"}


def _error(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


class AutoSchema(SpectacularAutoSchema):
    def _map_basic_serializer(self, serializer: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        absent = frozenset(getattr(serializer, "may_be_absent", ()))
        if absent and "required" in schema:
            required = [name for name in schema["required"] if name not in absent]
            if required:
                schema["required"] = required
            else:
                del schema["required"]
        return schema

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        parameters = operation.get("parameters", [])
        errors: dict[str, dict[str, Any]] = {}
        takes_input = "requestBody" in operation or any(p["in"] == "query" for p in parameters)
        if takes_input or self.method.lower() in CHANGES:
            errors["400"] = _error("Input refused: the messages by field.", FIELD_ERRORS)
        if self.view.get_authenticators():
            errors["401"] = _error("No credentials, or a token not (or no longer) valid.", DETAIL)
        if self.view.get_permissions():
            errors["403"] = _error("Not allowed to this caller.", DETAIL)
        if any(p["in"] == "path" for p in parameters) or any(
            p["in"] == "query" and p["name"] == "page" for p in parameters
        ):
            errors["404"] = _error(
                "No such record, or one hidden from the caller; or no such page.", DETAIL
            )
        if self.method.lower() in CHANGES:
            errors["409"] = _error("Not allowed in the record's present state.", DETAIL)
        if "requestBody" in operation:
            errors["413"] = _error(
                "The body is larger than the server accepts (DATA_UPLOAD_MAX_MEMORY_SIZE).",
                DETAIL,
            )
            errors["415"] = _error("A body in a media type this operation does not read.", DETAIL)
        if self.view.get_throttles():
            errors["429"] = _error("Too many attempts: try again later.", DETAIL)
        for code, response in errors.items():
            responses.setdefault(code, response)
        return operation
