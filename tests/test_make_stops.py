"""`make demo` and `make test` stop everything they started when make is stopped alone.

A process supervisor stops a service by signalling the process it started (make), not its
process group as a terminal's Ctrl-C does. make then exits at once (SIGINT) without telling
its children, or passes SIGTERM on; either way nothing may keep running. The command here
is `python -m devtools.services run -- <a child>`, the same code path as `make demo`: it
records its pid and would sleep for two minutes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.real_worker import wait_for

ROOT = Path(__file__).resolve().parent.parent

CHILD = """\
import os, sys, time
open(sys.argv[1], "w").write(str(os.getpid()))
time.sleep(120)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def make_run(tmp_path: Path):
    """Start ``make run`` whose recipe runs devtools' ``run`` around a sleeping child;
    yield make's process and the child's pid once it is up."""
    if shutil.which("make") is None:
        pytest.fail("make is not installed (the README's two commands need it)")
    child, marker = tmp_path / "child.py", tmp_path / "child.pid"
    child.write_text(CHILD)
    makefile = tmp_path / "Makefile"
    # No shell metacharacters: make runs the command itself, as it runs `make demo`'s.
    makefile.write_text(
        f"run:\n\t{sys.executable} -m devtools.services run -- {sys.executable} {child} {marker}\n"
    )
    env = {
        **os.environ,
        # Servers of our own are not needed: given both URLs, devtools starts none.
        "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgresql://x@127.0.0.1:1/x",
        "DATABASE_OWNER_URL": os.environ.get("DATABASE_OWNER_URL")
        or "postgresql://x@127.0.0.1:1/x",
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:1/0",
    }
    make = subprocess.Popen(
        ["make", "-s", "-f", str(makefile), "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pid = int(wait_for("the child to start", lambda: marker.exists() and marker.read_text()))
    try:
        yield make, pid
    finally:
        make.kill()
        make.wait()
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_sigint_to_make_alone_stops_what_it_started(make_run):
    make, pid = make_run
    assert alive(pid)
    make.send_signal(signal.SIGINT)
    make.wait(timeout=20)
    wait_for("the child to stop after make was interrupted", lambda: not alive(pid))


def test_sigterm_to_make_alone_stops_what_it_started(make_run):
    make, pid = make_run
    assert alive(pid)
    make.send_signal(signal.SIGTERM)
    make.wait(timeout=20)
    wait_for("the child to stop after make was terminated", lambda: not alive(pid))
