"""Permission names are spelled once, in their app's ``permissions.py``.

``access.role_may`` raises for a name no app declared, but only when a test reaches the
line; a string copy of a *declared* name is the other half of the risk: rename or narrow
the capability and the copy keeps pointing at the old rule. So every module, template and
tuple uses the owning app's constant (``casework.permissions.VIEW_CASE``), and these tests
read the source to hold that:

- no project module (migrations and tests aside) holds a string equal to a declared
  permission name, or a bare ``"<app>."`` prefix that one is built from, outside the
  owning app's ``permissions.py``;
- no template spells a permission name (the view puts ``may_*`` flags in the context);
- in each ``permissions.py`` every name is spelled exactly once, as a module-level
  constant that ``CAPABILITIES`` declares, and every tuple of names there is declared.

Migrations keep their literals on purpose: they must not import application code.
"""

from __future__ import annotations

import ast
import importlib
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from django.apps import AppConfig, apps
from django.conf import settings

from agencies import access

ROOT = Path(settings.BASE_DIR)
# Not application code: the virtualenv, embedded servers' data, vendored assets, tests.
SKIPPED_DIRS = {".venv", "var", "static", "node_modules", "migrations", "tests", "__pycache__"}


def application_modules(root: Path = ROOT) -> list[Path]:
    """Every Python module of the project that is not a migration or a test."""
    found = []
    for directory, subdirectories, files in os.walk(root):
        # Pruned in place, so that the virtualenv is never walked.
        subdirectories[:] = [
            d for d in subdirectories if d not in SKIPPED_DIRS and not d.startswith(".")
        ]
        found += [
            Path(directory) / name
            for name in files
            if name.endswith(".py") and not name.startswith("test_") and name != "conftest.py"
        ]
    return sorted(found)


def project_apps() -> list[AppConfig]:
    """Installed apps whose code is this project's (not the virtualenv's, not a test app)."""
    ours = []
    for config in apps.get_app_configs():
        path = Path(config.path)
        if path.is_relative_to(ROOT):
            parts = path.relative_to(ROOT).parts
            if not any(part in SKIPPED_DIRS or part.startswith(".") for part in parts):
                ours.append(config)
    return ours


def owning_permissions_module(perm: str) -> Path:
    """The one file allowed to spell ``perm``: its app's ``permissions.py``."""
    app_label = perm.partition(".")[0]
    return Path(apps.get_app_config(app_label).path) / "permissions.py"


def copies_in(source: str, path: Path, names: set[str], labels: set[str]) -> Iterator[str]:
    """``file:line: literal`` for each string constant in ``source`` that is a declared
    permission name, or the ``"<app_label>."`` prefix of one (``f"casework.{x}"``,
    ``"casework." + x``), unless ``path`` is the name's own ``permissions.py``."""
    prefixes = {f"{label}." for label in labels}
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        if node.value in names and path == owning_permissions_module(node.value):
            continue
        if node.value in names or node.value in prefixes:
            yield f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"


def permissions_modules() -> list[tuple[AppConfig, ModuleType]]:
    found = []
    for config in project_apps():
        try:
            module = importlib.import_module(f"{config.name}.permissions")
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.permissions":
                raise
            continue
        found.append((config, module))
    return found


@pytest.fixture(scope="module")
def declared_names() -> set[str]:
    return set(access.capabilities())


@pytest.fixture(scope="module")
def declaring_labels(declared_names: set[str]) -> set[str]:
    return {name.partition(".")[0] for name in declared_names}


# --- The guard reads what it should -------------------------------------------------------


def test_the_guard_reads_the_application_code_and_skips_migrations_and_tests():
    modules = {str(path.relative_to(ROOT)) for path in application_modules()}

    assert {"casework/views/cases.py", "referrals/services.py", "config/views.py"} <= modules
    assert {"dashboards/scope.py", "intelligence/api/views.py", "bench/measure.py"} <= modules
    assert not [m for m in modules if "/migrations/" in m or m.startswith(".venv/")]
    assert not [m for m in modules if "/tests/" in m or m.startswith("tests/")]


def test_the_guard_finds_a_copy_however_it_is_spelled(declared_names, declaring_labels):
    # The shapes copies took before the names were declared once: a call argument, a
    # tuple of names, a membership test, a dict key and a name built from its app's prefix.
    source = (
        'access.can(user, "casework.view_case", case)\n'
        'LEAD = ("referrals.view_nrmreferral",)\n'
        'ok = "intelligence.view_report" in perms\n'
        'LABELS = {"dashboards.view_agency_dashboard": "x"}\n'
        'built = f"casework.{codename}"\n'
        'glued = "agencies." + codename\n'
        # Not permission names: an audit action, a model label, a URL module.
        'action, label, urls = "intelligence.report_viewed", "casework.case", "casework.urls"\n'
    )
    path = ROOT / "casework" / "views.py"

    found = list(copies_in(source, path, declared_names, declaring_labels))

    assert [line.split(":")[1] for line in found] == ["1", "2", "3", "4", "5", "6"]


def test_the_owning_permissions_module_may_spell_its_own_names_only(
    declared_names, declaring_labels
):
    own = ROOT / "casework" / "permissions.py"
    source = 'VIEW_CASE = "casework.view_case"\nODD = "referrals.view_referral"\n'

    assert list(copies_in(source, own, declared_names, declaring_labels)) == [
        "casework/permissions.py:2: 'referrals.view_referral'"
    ]


# --- The rule ---------------------------------------------------------------------------------


def test_no_module_spells_a_permission_name_outside_its_apps_permissions_module(
    declared_names, declaring_labels
):
    copies = [
        copy
        for path in application_modules()
        for copy in copies_in(path.read_text(), path, declared_names, declaring_labels)
    ]

    assert copies == [], (
        "Use the constant from the owning app's permissions.py, not a string copy:\n"
        + "\n".join(copies)
    )


def test_no_template_spells_a_permission_name(declared_names):
    template_dirs = [Path(d) for engine in settings.TEMPLATES for d in engine.get("DIRS", [])]
    template_dirs += [Path(config.path) / "templates" for config in project_apps()]
    templates = [path for d in template_dirs for path in d.rglob("*") if path.is_file()]
    assert templates, "no templates found: the guard would pass vacuously"

    copies = [
        f"{path.relative_to(ROOT)}:{number}: {name}"
        for path in templates
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        for name in sorted(declared_names)
        if name in line
    ]

    assert copies == [], (
        "Decide in the view (a may_* flag in the context), not with a name in the template:\n"
        + "\n".join(copies)
    )


@pytest.mark.parametrize(
    ("config", "module"),
    [pytest.param(config, module, id=config.label) for config, module in permissions_modules()],
)
def test_each_name_is_a_constant_declared_in_capabilities(config, module):
    capabilities = module.CAPABILITIES
    constants = {
        name: value
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, str)
    }

    # No orphan constant: every name constant is a capability of this very app.
    assert {n: v for n, v in constants.items() if v not in capabilities} == {}
    assert [v for v in constants.values() if not v.startswith(f"{config.label}.")] == []
    # Every capability has its constant, and a tuple of names holds declared names only.
    assert set(capabilities) <= set(constants.values())
    tuples = {n: v for n, v in vars(module).items() if n.isupper() and isinstance(v, tuple)}
    undeclared = {name: set(names) - set(capabilities) for name, names in tuples.items()}
    assert {name: names for name, names in undeclared.items() if names} == {}


@pytest.mark.parametrize(
    ("config", "module"),
    [pytest.param(config, module, id=config.label) for config, module in permissions_modules()],
)
def test_each_name_is_spelled_once_in_its_permissions_module(config, module):
    path = Path(module.__file__)
    tree = ast.parse(path.read_text(), filename=str(path))
    spelled = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in module.CAPABILITIES
    ]
    # Spelled once each, in the constant's assignment (the test above holds that each has
    # one), so CAPABILITIES' keys and any tuple of names are the constants themselves.
    assert sorted(spelled) == sorted(module.CAPABILITIES)
