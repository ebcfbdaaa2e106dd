"""P7 — requests per second under load.

gunicorn with 2 sync workers serves the app on the benchmark's database; a load
generator in this process (threads, one connection each: sync workers close it after
each response, and ``http.client`` opens it again) asks for one path for a fixed time,
then for the next. Both paths are asked with the same signed-in session, so each pays for
the session middleware alike and the ratio is the page's own cost.

The generator shares the machine's cores with the server, so absolute numbers are low;
the ratio between two paths measured the same way is the point. ``gunicorn`` also serves
P2 and P4 over HTTP (``bench.doors``).
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection as database

from devtools.database import url_of


@dataclass
class Load:
    label: str
    path: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")

    @property
    def p95(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, round(0.95 * len(ordered)) - 1)] if ordered else float("nan")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url() -> str:
    """DATABASE_URL of the database this process uses, for the process it starts."""
    return url_of(database.settings_dict)


@contextmanager
def gunicorn(
    workers: int = 2, threads: int = 0, app: str = "config.wsgi:application"
) -> Iterator[int]:
    """The app under gunicorn on a free loopback port, on this process's database; yields
    the port.

    Sync workers (the default, as in production) close the connection after every
    response; with ``threads`` the workers are gthread ones, which keep an HTTP/1.1
    connection alive between requests (a client's persistent connection, as an API
    client or a browser keeps one).
    """
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    if threads:
        command += ["--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "60"]
    server = subprocess.Popen(  # noqa: S603 (this interpreter, fixed arguments)
        command,
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": database_url()},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start.")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/livez")
                if connection.getresponse().status < 500:  # answering HTTP: ready
                    break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def load(
    port: int, label: str, path: str, *, cookie: str, seconds: float, concurrency: int
) -> Load:
    """Ask for ``path`` from ``concurrency`` threads for ``seconds``; count the 200s."""
    result = Load(label, path, seconds)
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    headers = {"Cookie": cookie, "Host": settings.ALLOWED_HOSTS[0]}

    def run() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        errors = 0
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            if ok:
                mine.append((time.perf_counter() - started) * 1000)
            else:
                errors += 1
        connection.close()
        with lock:
            result.latencies.extend(mine)
            result.errors += errors

    threads = [threading.Thread(target=run) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result
