"""``page_size`` is read as the schema documents it, a whole number of 1 or more: anything
else is a 400 naming it, not the default page DRF answers it with (found by fuzzing the
API against its schema: ``config/tests/test_fuzz_api.py``)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("bad", ["abc", "0", "-3", "1.5", "null", ""])
def test_a_page_size_not_a_whole_number_of_one_or_more_is_a_400_naming_it(api, caseworker, bad):
    response = api(caseworker).get(f"/api/v1/agencies/?page_size={bad}")

    assert response.status_code == 400
    assert "page_size" in response.json()


def test_a_page_size_is_honoured_and_one_above_the_maximum_is_the_maximum(
    api, caseworker, partnership, settings
):
    settings.MAX_PAGE_SIZE = 2  # the partnership's four agencies are visible to all

    client = api(caseworker)
    assert len(client.get("/api/v1/agencies/?page_size=1").json()["results"]) == 1
    assert len(client.get("/api/v1/agencies/?page_size=500").json()["results"]) == 2
    assert client.get("/api/v1/agencies/?page_size=500").json()["count"] >= 4
