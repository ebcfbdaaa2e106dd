"""Every background job goes through one durable path: ``core.background``.

A task queued with a bare ``.delay(...)`` / ``.apply_async(...)`` raises when the broker
(Redis) is down, after the caller's transaction has committed: the request answers 500
and, unless a beat task re-queues a durable row, the work is lost (issue 19: invitations,
dashboard exports). ``core.background.publish`` / ``publish_on_commit`` log a broker error
instead, take ids only, and are used only for work whose row a beat task re-queues. The
first-party code is parsed here, not run, so a branch no test reaches is checked too.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PUBLISHING_METHODS = frozenset({"delay", "apply_async", "send_task"})

# The modules that may call a task's publishing methods, each with its reason.
ALLOWED = {
    # The one durable path itself: catches and logs a broker error, checks the ids.
    "core/background.py": "the publisher every other module goes through",
}


def _first_party_modules() -> Iterator[Path]:
    """The modules of the packages the floor plan names (pyproject.toml) and manage.py;
    not tests (a test may publish a task by hand to play a broker's redelivery)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for package in pyproject["tool"]["importlinter"]["root_packages"]:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if parts[0] == "tests" or "tests" in parts:
                continue
            if path.name.startswith("test_") or path.name == "conftest.py":
                continue
            yield path
    yield ROOT / "manage.py"


def bare_publishes(source: str, filename: str) -> list[str]:
    """``file:line: .method(`` for each call of a publishing method in ``source``."""
    calls = [
        (node.lineno, node.func.attr)
        for node in ast.walk(ast.parse(source, filename))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in PUBLISHING_METHODS
    ]
    return [f"{filename}:{line}: .{method}(" for line, method in sorted(calls)]


def test_no_task_is_published_outside_the_durable_path() -> None:
    offenders = [
        where
        for path in _first_party_modules()
        if (name := path.relative_to(ROOT).as_posix()) not in ALLOWED
        for where in bare_publishes(path.read_text(), name)
    ]
    assert offenders == [], (
        "Queue background work with core.background.publish_on_commit (its row re-queued "
        "by beat), not a bare .delay/.apply_async:\n" + "\n".join(offenders)
    )


def test_the_allowed_modules_exist_and_do_publish() -> None:
    # A stale entry would let a new module of that name publish unseen.
    for name in ALLOWED:
        assert bare_publishes((ROOT / name).read_text(), name), name


def test_the_scan_finds_each_way_of_publishing() -> None:
    source = (
        "from .tasks import build\n"
        "def later(pk):\n"
        "    transaction.on_commit(lambda: build.delay(pk))\n"
        "    build.s(pk).apply_async(countdown=5)\n"
        "    app.send_task('x.y', args=[pk])\n"
    )
    assert bare_publishes(source, "app/x.py") == [
        "app/x.py:3: .delay(",
        "app/x.py:4: .apply_async(",
        "app/x.py:5: .send_task(",
    ]
