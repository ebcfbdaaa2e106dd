"""P2 and P4 through both doors: a browser session and an API token.

A request comes in by one of two doors: a session cookie (a browser, or the API used from
one) or an API token (``Authorization: Token ...``, django-rest-knox). Both must load the
user with what scoping needs in one query (``agencies.auth.user_for_request``), or the
scoped list pays for it: once the token door put a caseworker's 50-row list at
2x the superuser's time against 1.15x through a session.

Each side of a ratio is timed through each door and each transport:

- **test client**: Django's test client in this process, the whole middleware stack;
- **HTTP**: real HTTP to gunicorn on the same database, one worker with one thread (so
  requests are served one at a time, as the test client's are), each user and door on a
  persistent HTTP/1.1 connection of its own (gthread keeps it alive), as an API client
  or a browser keeps one. The client is in this process and shares the cores.

Every measurement of a section is timed in turn, round after round (``measure.compare``),
so a slow spell of the machine falls on all of them, and each ratio divides two medians
(or two p95s) of the same door and transport.
"""

from __future__ import annotations

import functools
import http.client
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.test import Client
from knox.models import AuthToken

from agencies.models import User

from . import measure

SESSION = "session"
TOKEN = "token"
DOORS = (SESSION, TOKEN)
DOOR_NAMES = {
    SESSION: "Session door (cookie)",
    TOKEN: "Token door (`Authorization: Token`)",
}
TEST_CLIENT = "test client"
HTTP = "HTTP"
# How a keep-alive connection the server has closed (idle past gunicorn's --keep-alive)
# fails on its next request.
STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class Tokens:
    """API tokens of the measured users, made for this run and deleted after it."""

    def __init__(self) -> None:
        self._made: dict[int, tuple[AuthToken, str]] = {}

    def of(self, user: User) -> str:
        if user.pk not in self._made:
            self._made[user.pk] = AuthToken.objects.create(user)
        return self._made[user.pk][1]

    def delete(self) -> None:
        AuthToken.objects.filter(
            pk__in=[instance.pk for instance, _ in self._made.values()]
        ).delete()
        self._made.clear()


@contextmanager
def tokens_for_run() -> Iterator[Tokens]:
    made = Tokens()
    try:
        yield made
    finally:
        made.delete()


def client_at(user: User, door: str, tokens: Tokens) -> Client:
    """Django's test client for ``user`` at ``door``: a signed-in session, or no session
    and the user's token on every request."""
    if door == SESSION:
        return measure.client_for(user)
    return Client(
        HTTP_HOST=settings.ALLOWED_HOSTS[0], HTTP_AUTHORIZATION=f"Token {tokens.of(user)}"
    )


def http_headers(user: User, door: str, tokens: Tokens) -> dict[str, str]:
    """What a client sends over HTTP at ``door``: a session cookie, or the token."""
    if door == SESSION:
        session = measure.client_for(user).cookies[settings.SESSION_COOKIE_NAME].value
        return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"}
    return {"Authorization": f"Token {tokens.of(user)}"}


class Connection:
    """One persistent HTTP/1.1 connection to the server, for one user at one door."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port = port
        self.headers = {"Host": settings.ALLOWED_HOSTS[0], **headers}
        self._open()

    def _open(self) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def get(self, path: str) -> bytes:
        try:
            return self._get(path)
        except STALE:
            # The server ended an idle keep-alive connection: open it again, once.
            self.connection.close()
            self._open()
            return self._get(path)

    def _get(self, path: str) -> bytes:
        self.connection.request("GET", path, headers=self.headers)
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status} over HTTP")
        return body

    def close(self) -> None:
        self.connection.close()


@dataclass
class DoorTimings:
    """The sides of one ratio, timed at one door through one transport."""

    door: str
    transport: str
    sides: list[measure.Timing]


def compare_doors(
    sides: dict[str, User], url: str, *, tokens: Tokens, runs: int, port: int | None
) -> list[DoorTimings]:
    """Time ``url`` for each side (label → user) at both doors, through the test client
    and, with a server's ``port``, over HTTP: all in turn, round after round."""
    transports = (TEST_CLIENT, HTTP) if port is not None else (TEST_CLIENT,)
    calls: dict[str, Callable[[], Any]] = {}
    groups: list[tuple[str, str, list[str]]] = []
    connections: list[Connection] = []
    try:
        for door in DOORS:
            for transport in transports:
                keys = []
                for label, user in sides.items():
                    key = f"{label}, {door}, {transport}"
                    if transport == TEST_CLIENT:
                        client = client_at(user, door, tokens)
                        calls[key] = functools.partial(measure.get_ok, client, url)
                    else:
                        assert port is not None
                        connection = Connection(port, http_headers(user, door, tokens))
                        connections.append(connection)
                        calls[key] = functools.partial(connection.get, url)
                    keys.append(key)
                groups.append((door, transport, keys))
        timings = {timing.label: timing for timing in measure.compare(calls, runs=runs)}
    finally:
        for connection in connections:
            connection.close()
    results = []
    for door, transport, keys in groups:
        measured = []
        for label, key in zip(sides, keys, strict=True):
            timing = timings[key]
            timing.label = f"{label}, {transport}"
            measured.append(timing)
        results.append(DoorTimings(door, transport, measured))
    return results
