"""P1 of the benchmark as tests: the lists answer in the same number of SQL queries for a
page of 10, 50 or 100 rows. Timings are not asserted anywhere in the suite."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from casework import consents
from casework import services as casework
from notifications.services import notify
from referrals import services as referrals

pytestmark = pytest.mark.django_db

SIZES = (10, 50, 100)


def queries(client: Any, url: str) -> int:
    client.get(url)  # warm per-process caches (permission ids, content types)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.fixture
def many_cases(caseworker: Any, council: Any, other_agency_caseworker: Any) -> list[Any]:
    cases = []
    for n in range(100):
        case = casework.case_create(
            actor=caseworker, exploitation_types=["labour"], risk_level="high"
        )
        casework.need_add(actor=caseworker, case=case, category="healthcare")
        if n % 3 == 0:
            casework.flag_raise(actor=caseworker, case=case, kind="other")
        cases.append(case)
    return cases


def same_for_every_size(client: Any, url: Callable[[int], str]) -> dict[int, int]:
    counts = {size: queries(client, url(size)) for size in SIZES}
    assert len(set(counts.values())) == 1, counts
    return counts


def test_case_list_html_and_api(login, api, caseworker, many_cases):
    same_for_every_size(login(caseworker), lambda n: f"/cases/?page_size={n}")
    counts = same_for_every_size(api(caseworker), lambda n: f"/api/v1/cases/?page_size={n}")
    assert counts[100] <= 9  # with the session's second factor (django-otp reads it)


def test_case_list_through_an_api_token(caseworker, many_cases):
    """The token door loads what scoping needs with the user, as a session
    does: within the session's budget, nothing loaded lazily afterwards."""
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    _, token = AuthToken.objects.create(caseworker)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    counts = same_for_every_size(client, lambda n: f"/api/v1/cases/?page_size={n}")
    # The token and knox's sweep of the user's expired tokens; the user with its
    # membership, agency and personal-grant flags (one query, not three); the count, the
    # page and its flags.
    assert counts[100] <= 6


def test_notifications_list_html_and_api(login, api, caseworker, many_cases):
    with transaction.atomic():
        for case in many_cases:
            notify(
                recipients=[caseworker],
                kind="test",
                target=case,
                message="Something happened",
                url=f"/cases/{case.pk}/",
                dedup_key=f"test:{case.pk}",
            )
    same_for_every_size(login(caseworker), lambda n: f"/notifications/?page_size={n}")
    same_for_every_size(api(caseworker), lambda n: f"/api/v1/notifications/?page_size={n}")


def test_referral_inbox_and_list(
    login, api, caseworker, council, other_agency_caseworker, many_cases, partnership
):
    small = queries(login(other_agency_caseworker), "/referrals/")
    for case in many_cases[:60]:
        referrals.referral_send(
            actor=caseworker, case=case, to_agency=council, kind="health", reason="GP"
        )
    assert queries(login(other_agency_caseworker), "/referrals/") == small
    same_for_every_size(api(other_agency_caseworker), lambda n: f"/api/v1/referrals/?page_size={n}")


def test_case_page_does_not_grow_with_the_case(login, caseworker, many_cases):
    case = many_cases[0]
    small = queries(login(caseworker), f"/cases/{case.pk}/")
    for n in range(20):
        casework.need_add(actor=caseworker, case=case, category="transport")
        casework.note_add(actor=caseworker, case=case, body=f"Note {n}", visibility="case_team")
        consents.consent_record(actor=caseworker, case=case, scope="evidence_use", method="written")
    assert queries(login(caseworker), f"/cases/{case.pk}/") == small
