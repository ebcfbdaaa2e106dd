"""The token door loads the user as the session door does.

A caseworker who signs in with an API token must be scoped exactly as through a browser
session: the same membership, the same personal-grant flags, so the same SQL (the agency
grants alone when they hold no personal grant) and the same number of queries. Knox's own
checks (an expired token, a deactivated user) still refuse. No timing is asserted: the
benchmark measures the times (``manage.py bench``, P2 and P4 per door).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from agencies import access
from agencies.auth import TokenAuthentication, user_for_request
from agencies.models import User
from casework import services as casework
from casework.models import Case, CaseUserGrant
from casework.permissions import VIEW_CASE

pytestmark = pytest.mark.django_db

CASE_LIST = "/api/v1/cases/?page_size=50"
USER_GRANTS_TABLE = CaseUserGrant._meta.db_table
CASE_TABLE = Case._meta.db_table
TIMESTAMP = re.compile(r"'\d{4}-\d{2}-\d{2}[ T][^']*'")


def token_client(user: User) -> APIClient:
    _, token = AuthToken.objects.create(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def captured(client: APIClient, url: str = CASE_LIST) -> tuple[Any, list[str]]:
    """The response and every SQL statement of the request, after one warm-up request
    (per-process caches: permission ids, content types)."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return response, [query["sql"] for query in queries.captured_queries]


def case_list_sql(statements: list[str]) -> list[str]:
    """The statements that read the case table (the page and its count), with the time
    each grant must still be live at (``expires_at > now``) blanked out."""
    return [TIMESTAMP.sub("'<now>'", sql) for sql in statements if f'FROM "{CASE_TABLE}"' in sql]


def after_the_door(statements: list[str]) -> list[str]:
    """The statements that are not a door's own: a session read or saved (and the test
    transaction's savepoint around the save) with the second factor it was verified by
    (django-otp reads the device the session names), a token looked up."""
    own = ("django_session", "knox_authtoken", "SAVEPOINT", "otp_totp_totpdevice")
    return [sql for sql in statements if not any(word in sql for word in own)]


@pytest.fixture
def harbour_cases(caseworker: User) -> list[Case]:
    return [casework.case_create(actor=caseworker, risk_level="high") for _ in range(3)]


def test_token_and_session_doors_issue_the_same_queries_for_the_case_list(
    api, caseworker, harbour_cases
):
    by_session, session_sql = captured(api(caseworker))
    by_token, token_sql = captured(token_client(caseworker))

    assert by_token.json()["count"] == by_session.json()["count"] == 3
    # Past each door's own bookkeeping, the same queries: the user loaded once with what
    # scoping needs (nothing loaded lazily later), then the case list's own statements,
    # the same SQL at both doors.
    session_work, token_work = after_the_door(session_sql), after_the_door(token_sql)
    assert len(token_work) == len(session_work), "\n".join(
        ["token door:", *token_work, "session door:", *session_work]
    )
    assert case_list_sql(token_sql) == case_list_sql(session_sql)
    # And the door itself costs no more with a token (its row and knox's sweep of the
    # user's expired tokens) than with a session (its row, then saved again).
    assert len(token_sql) - len(token_work) <= len(session_sql) - len(session_work)


def test_without_personal_grants_the_token_door_scopes_by_agency_grants_alone(
    caseworker, harbour_cases
):
    _, statements = captured(token_client(caseworker))

    scoped = case_list_sql(statements)
    assert scoped, "the case list read no case"
    assert not [sql for sql in scoped if USER_GRANTS_TABLE in sql]


def test_a_user_with_a_personal_grant_is_scoped_by_it_through_the_token_door(
    caseworker, police_officer, harbour_cases
):
    # A break-glass or an individual share: a grant to the officer alone.
    case = harbour_cases[0]
    access.grant(actor=None, obj=case, perms=[VIEW_CASE], reason=case, user=police_officer)

    response, statements = captured(token_client(police_officer))

    assert [row["id"] for row in response.json()["results"]] == [case.pk]
    assert [sql for sql in case_list_sql(statements) if USER_GRANTS_TABLE in sql]


def test_the_token_loaded_user_carries_its_membership_and_personal_grant_flags(caseworker):
    instance, token = AuthToken.objects.create(caseworker)

    with CaptureQueriesContext(connection) as queries:
        user, auth = TokenAuthentication().authenticate_credentials(token.encode())
        # Everything scoping reads is already loaded: no query after authentication.
        start = len(queries)
        agency = user.membership.agency
        assert len(queries) == start

    assert auth == instance
    assert agency == caseworker.membership.agency
    assert getattr(user, access.PERSONAL_GRANTS) == frozenset()
    assert getattr(user, access.PERSONAL_GRANTS) == getattr(
        user_for_request(caseworker.pk), access.PERSONAL_GRANTS
    )


def test_knox_still_refuses_expired_tokens_and_deactivated_users(caseworker, harbour_cases):
    expired, expired_token = AuthToken.objects.create(caseworker, expiry=timedelta(hours=1))
    AuthToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {expired_token}")
    assert client.get(CASE_LIST).status_code == 401

    client = token_client(caseworker)
    assert client.get(CASE_LIST).status_code == 200
    User.objects.filter(pk=caseworker.pk).update(is_active=False)
    assert client.get(CASE_LIST).status_code == 401
