"""Every setting the code reads is declared once, in config/settings.py (or by Django).

A default written where a setting is read (``getattr(settings, "X", 10)``) is a second
declaration that the environment variable, README and .env.example know nothing about;
a setting read but declared nowhere works only until the day it is looked up. The code is
parsed here, not run, so a branch no test reaches is checked too.
"""

from __future__ import annotations

import ast
import importlib
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import global_settings

ROOT = Path(__file__).resolve().parents[2]


def _declared() -> frozenset[str]:
    """Django's own settings and those of the settings module the suite runs with."""
    module = importlib.import_module("config.settings_test")
    return frozenset(
        name for source in (global_settings, module) for name in vars(source) if name.isupper()
    )


def _first_party_modules() -> Iterator[Path]:
    """The modules of the packages the floor plan names (pyproject.toml), and manage.py;
    not tests, migrations or the settings module's test twin."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for package in pyproject["tool"]["importlinter"]["root_packages"]:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "tests" in parts or "migrations" in parts:
                continue
            if path.name.startswith("test_") or path.name == "conftest.py":
                continue
            yield path
    yield ROOT / "manage.py"


@dataclass
class Findings:
    reads: list[tuple[str, str]] = field(default_factory=list)  # (where, setting)
    problems: list[str] = field(default_factory=list)


def _settings_names(tree: ast.AST) -> set[str]:
    """Local names of ``django.conf.settings`` in a module (``from django.conf import
    settings [as x]``, at module level or in a function)."""
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "django.conf"
        for alias in node.names
        if alias.name == "settings"
    }


def check_source(source: str, where: str, declared: frozenset[str], findings: Findings) -> None:
    tree = ast.parse(source)
    names = _settings_names(tree)
    if not names:
        return

    def is_settings(node: ast.AST) -> bool:
        return isinstance(node, ast.Name) and node.id in names

    def read(line: int, setting: str) -> None:
        findings.reads.append((f"{where}:{line}", setting))
        if setting not in declared:
            findings.problems.append(
                f"{where}:{line}: settings.{setting} is not declared in config/settings.py"
            )

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_settings(node.value) and node.attr.isupper():
            read(node.lineno, node.attr)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr")
            and node.args
            and is_settings(node.args[0])
        ):
            call = f"{node.func.id}(settings, ...)"
            if node.func.id == "hasattr" or len(node.args) > 2 or node.keywords:
                findings.problems.append(
                    f"{where}:{node.lineno}: {call} reads a setting that may not exist; "
                    "declare it in config/settings.py and read settings.X"
                )
            elif len(node.args) == 2 and isinstance(node.args[1], ast.Constant):
                read(node.lineno, str(node.args[1].value))
            else:
                findings.problems.append(
                    f"{where}:{node.lineno}: {call} with a computed name cannot be checked; "
                    "read settings.X"
                )


def test_the_code_reads_only_declared_settings_and_no_defaults():
    declared = _declared()
    findings = Findings()
    modules = list(_first_party_modules())
    for path in modules:
        where = str(path.relative_to(ROOT))
        check_source(path.read_text(), where, declared, findings)
    assert not findings.problems, "\n".join(findings.problems)
    # Not vacuous: the walk found the apps' modules and the settings they read.
    assert len(modules) > 150, len(modules)
    read = {setting for _, setting in findings.reads}
    assert {"SUPPRESSION_THRESHOLD", "PAGE_SIZE", "MAX_PAGE_SIZE", "AUTH_USER_MODEL"} <= read
    assert any(where.startswith("dashboards/suppression.py:") for where, _ in findings.reads)
    assert len(findings.reads) > 80, len(findings.reads)


def test_the_check_finds_defaults_and_undeclared_settings():
    source = """
from django.conf import settings as conf

def f():
    a = getattr(conf, "PAGE_SIZE", 25)
    b = conf.NOT_A_SETTING
    c = getattr(conf, "ALSO_NOT_ONE")
    d = hasattr(conf, "PAGE_SIZE")
    e = getattr(conf, name)
    return conf.PAGE_SIZE, conf.DEBUG, getattr(conf, "MAX_PAGE_SIZE")
"""
    findings = Findings()
    check_source(source, "example.py", _declared(), findings)
    lines = sorted(int(problem.split(":")[1]) for problem in findings.problems)
    assert lines == [5, 6, 7, 8, 9], findings.problems
    assert sorted(setting for _, setting in findings.reads) == [
        "ALSO_NOT_ONE",
        "DEBUG",
        "MAX_PAGE_SIZE",
        "NOT_A_SETTING",
        "PAGE_SIZE",
    ]
