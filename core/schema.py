"""The OpenAPI schema as the answers are: drf-spectacular's ``AutoSchema``, taught that a
read-only field a serializer names in ``may_be_absent`` is left out of some answers (a
part of a record the reader may not see), so the schema does not call it required."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


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
