"""What the API says of an NRM referral is what it returns: every field of
``GET /api/v1/cases/<id>/nrm/`` that can come back ``null`` is documented nullable in the
OpenAPI schema (a client generated from the schema must not break on a fresh referral,
whose recovery period, reconsideration deadline and support clocks have not started)."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from casework import consents
from referrals import nrm_services

pytestmark = pytest.mark.django_db


def _component(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return schema["components"]["schemas"][name]


def test_every_null_an_nrm_referral_returns_is_documented_nullable(api, caseworker, case):
    consents.consent_record(actor=caseworker, case=case, scope="nrm_referral", method="written")
    nrm_services.nrm_refer(actor=caseworker, case=case)
    response = api(caseworker).get(f"/api/v1/cases/{case.pk}/nrm/")
    assert response.status_code == 200
    [row] = response.json()["results"] if "results" in response.json() else response.json()
    nulls = {name for name, value in row.items() if value is None}
    # A fresh referral: no decision yet, so these clocks have not started.
    assert {"recovery_period_ends", "reconsideration_deadline", "support_contact_due"} <= nulls

    schema = SchemaGenerator().get_schema(request=None, public=True)
    properties = _component(schema, "NRM")["properties"]
    undocumented = sorted(name for name in nulls if not properties[name].get("nullable"))
    assert undocumented == [], f"returned null but documented non-nullable: {undocumented}"
    # And every field the schema lists is one the answer has (none absent).
    assert set(properties) <= set(row)
