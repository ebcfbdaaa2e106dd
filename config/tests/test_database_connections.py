"""A database connection cut under the web process (a restart of PostgreSQL, a failover,
an idle connection killed by a proxy) costs no request: web, worker and beat keep their
connection between requests (CONN_MAX_AGE) and check it before reusing it
(CONN_HEALTH_CHECKS), so the next request opens a fresh one instead of answering 500.

The requests go through Django's WSGI handler in this thread, as a web worker runs them:
the test client skips the request signals that start the check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import RequestFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_process_checks_its_kept_connection_before_reusing_it():
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


def _terminate(pid: int) -> None:
    """``pg_terminate_backend`` from a second connection, as the same role (a role may
    end its own backends)."""
    # Opened by Django with the live connection's own parameters: the embedded server of
    # a fresh machine is reached through its socket directory in OPTIONS, not HOST.
    other = connection.get_new_connection(connection.get_connection_params())
    try:
        other.autocommit = True
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone() == (True,)
    finally:
        other.close()


@pytest.fixture
def web_request(api: Callable[[Any], Any], caseworker: Any) -> Iterator[Callable[[], int]]:
    """A signed-in GET through the WSGI handler (request_started and request_finished
    sent), its status; the connection is kept between requests, as in production."""
    cookie = api(caseworker).cookies[settings.SESSION_COOKIE_NAME].value
    handler = WSGIHandler()

    def get() -> int:
        environ = (
            RequestFactory()
            .get("/api/v1/me/", HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}={cookie}")
            .environ
        )
        statuses: list[str] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            statuses.append(status)
            return lambda data: None

        response = handler(environ, start_response)
        response.close()  # request_finished: the connection is kept (CONN_MAX_AGE)
        return int(statuses[0].split()[0])

    yield get
    connection.close()  # whatever the test did, the suite goes on with a fresh connection


def test_the_next_request_after_the_connection_is_cut_answers(web_request):
    assert web_request() == 200
    assert connection.connection is not None  # kept open after the request
    _terminate(connection.connection.get_backend_pid())
    assert web_request() == 200


def test_without_the_health_check_the_cut_connection_would_be_a_500(web_request, monkeypatch):
    """The check above is what saves the request: without it, the same cut is a 500."""
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", False)
    connection.close()  # read when a connection opens
    assert web_request() == 200
    assert not connection.health_check_enabled
    _terminate(connection.connection.get_backend_pid())
    assert web_request() == 500
