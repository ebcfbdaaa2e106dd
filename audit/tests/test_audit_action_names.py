"""Audit actions are named in one enum per app (``<app>/audit_actions.py``), never as
strings where they are written: a typo in a string writes a row no filter finds.

The first test reads the source of every app with ``ast`` (tests and migrations aside) and
names each ``record(...)`` whose action is a string literal, an f-string or a module-level
string constant. The others hold the enums to their promise: one per app, and no value
stored under two names.
"""

from __future__ import annotations

import ast
import enum
import importlib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "core",
    "audit",
    "agencies",
    "notifications",
    "casework",
    "referrals",
    "intelligence",
    "dashboards",
    "config",
    "bench",
    "devtools",
)


def _sources() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if not {"tests", "migrations"} & set(path.relative_to(ROOT).parts)
    )


def _is_record(call: ast.Call) -> bool:
    func = call.func
    return (isinstance(func, ast.Name) and func.id == "record") or (
        isinstance(func, ast.Attribute) and func.attr == "record"
    )


def _string_constants(tree: ast.Module) -> set[str]:
    """Names bound to a string at module level (``SEARCHED = "intelligence.searched"``)."""
    names = set()
    for node in tree.body:
        if not isinstance(node, ast.Assign | ast.AnnAssign):
            continue
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def string_actions(source: str, filename: str) -> list[str]:
    """``file:line`` and the expression of each ``record(...)`` whose action is spelled
    as a string rather than an enum member."""
    tree = ast.parse(source, filename=filename)
    constants = _string_constants(tree)
    found = []
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call) or not _is_record(call):
            continue
        actions = call.args[:1] + [k.value for k in call.keywords if k.arg == "action"]
        for action in actions:
            spelled = any(
                isinstance(node, ast.JoinedStr)
                or (isinstance(node, ast.Constant) and isinstance(node.value, str))
                or (isinstance(node, ast.Name) and node.id in constants)
                for node in ast.walk(action)
            )
            if spelled:
                found.append(f"{filename}:{call.lineno}: record({ast.unparse(action)}, ...)")
    return found


def _enum_modules() -> list[str]:
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for package in PACKAGES
        for path in (ROOT / package).rglob("audit_actions.py")
    )


def _enums() -> dict[str, list[type[enum.StrEnum]]]:
    enums = {}
    for name in _enum_modules():
        module = importlib.import_module(name)
        enums[name] = [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, enum.StrEnum)
            and value.__module__ == module.__name__
        ]
    return enums


def test_no_action_is_written_as_a_string():
    found = []
    for path in _sources():
        found += string_actions(path.read_text(), str(path.relative_to(ROOT)))
    assert not found, "Name these actions in the app's audit_actions.py enum:\n" + "\n".join(found)


def test_the_check_sees_every_spelling_of_a_string():
    source = """
SEARCHED = "intelligence.searched"
record("notes.viewed", actor=user)
audit.record(f"referral.{event}")
record("identity.recorded" if created else "identity.changed")
record(SEARCHED, actor=user)
record(action="case.created")
record(CaseAction.NOTES_VIEWED, actor=user)
record(ENDED_ACTION[status])
"""
    found = string_actions(source, "example.py")
    assert [line.split(":")[1] for line in found] == ["3", "4", "5", "6", "7"]


def test_every_app_that_writes_the_trail_has_its_enum():
    writers = {
        path.relative_to(ROOT).parts[0]
        for path in _sources()
        if any(
            isinstance(node, ast.Call) and _is_record(node) and node.args
            for node in ast.walk(ast.parse(path.read_text()))
        )
    }
    assert writers, "no call to record() found: the scan is looking in the wrong place"
    missing = sorted(app for app in writers if not (ROOT / app / "audit_actions.py").exists())
    assert not missing, f"these apps write audit events without an audit_actions.py: {missing}"


def test_one_enum_per_app_and_no_value_under_two_names():
    enums = _enums()
    assert "audit.audit_actions" in enums
    places: dict[str, list[str]] = defaultdict(list)
    for module, classes in enums.items():
        assert len(classes) == 1, f"{module} should define one StrEnum, not {classes}"
        [actions] = classes
        # An enum with a repeated value keeps only the first name (the rest are aliases).
        aliases = set(actions.__members__) - {member.name for member in actions}
        assert not aliases, f"{actions.__name__}: {sorted(aliases)} repeat a value"
        for member in actions:
            places[member.value].append(f"{actions.__name__}.{member.name}")
    repeated = {value: names for value, names in places.items() if len(names) > 1}
    assert not repeated, f"audit action values stored under two names: {repeated}"
