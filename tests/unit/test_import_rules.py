"""The layer rules of DESIGN.md, checked by reading every module's imports with `ast`.

Core knows no Qt, SIP stack, HTTP or adapter; adapters (crm/, telephony/, contactcenter/)
know neither each other nor the UI; the UI knows no backend; wiring names no backend (the
composition root, app/compose/, builds them). Imports inside functions and
under `if TYPE_CHECKING:` count too: they are arrows all the same.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"

QT_SIP_HTTP = ("PySide6", "shiboken6", "pjsua2", "requests", "msal")
ADAPTERS = ("app.crm", "app.telephony", "app.contactcenter")


@dataclass(frozen=True)
class Rule:
    """Modules under `package` must not import any of `forbidden` (or anything below them)."""

    package: str
    forbidden: tuple[str, ...]
    why: str


RULES = (
    Rule("app.core", (*QT_SIP_HTTP, *ADAPTERS, "app.ui", "app.wiring", "app.desktop"),
         "core holds the product rules: no Qt, SIP stack, HTTP or adapter"),
    *(Rule(adapter, (*(a for a in ADAPTERS if a != adapter), "app.ui"),
           "an adapter knows neither the other adapters nor the UI")
      for adapter in ADAPTERS),
    Rule("app.ui", (*ADAPTERS, "app.wiring", "app.compose"),
         "widgets show state and emit intents; they know no backend"),
    Rule("app.wiring", (*ADAPTERS, "app.compose", "app.secrets"),
         "wiring connects finished objects typed by core's ports; app/compose/ builds "
         "and chooses the backends"),
)


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    imported: str
    why: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imported} ({self.why})"


def module_name(path: Path, root: Path) -> str:
    """`<root>/app/core/crm.py` → `app.core.crm`; a package's `__init__.py` → the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every (line, absolute dotted name) a module imports, relative imports resolved.

    `from a.b import c` yields both `a.b` and `a.b.c`: `c` may be a submodule, and a rule
    about `a.b.c` must see it.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            found.append((node.lineno, base))
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names
                         if alias.name != "*")
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def check_module(source: str, module: str, is_package: bool = False) -> list[Violation]:
    """The rule breaks in one module's source (empty when it keeps every rule)."""
    violations: list[Violation] = []
    for rule in RULES:
        if not _within(module, rule.package):
            continue
        for line, name in imported_names(source, module, is_package):
            hit = next((f for f in rule.forbidden if _within(name, f)), None)
            if hit is not None:
                violations.append(Violation(module, line, name, rule.why))
    # `from a import b` reports both a and a.b; one line per arrow is enough
    return sorted(set(violations), key=lambda v: (v.line, v.imported))


def check_tree(root: Path) -> list[Violation]:
    violations: list[Violation] = []
    for path in sorted((root / "app").rglob("*.py")):
        violations.extend(check_module(path.read_text(encoding="utf-8"),
                                       module_name(path, root), path.name == "__init__.py"))
    return violations


# --- the checker can fail --------------------------------------------------------------


def test_core_importing_qt_is_reported() -> None:
    bad = "from __future__ import annotations\nfrom PySide6.QtCore import QObject\n"
    assert [str(v) for v in check_module(bad, "app.core.bad")] == [
        "app.core.bad:2 imports PySide6.QtCore "
        "(core holds the product rules: no Qt, SIP stack, HTTP or adapter)",
        "app.core.bad:2 imports PySide6.QtCore.QObject "
        "(core holds the product rules: no Qt, SIP stack, HTTP or adapter)",
    ]


def test_core_importing_an_adapter_inside_a_function_is_reported() -> None:
    bad = "def f():\n    import app.crm.local.store\n"
    assert [v.imported for v in check_module(bad, "app.core.bad")] == ["app.crm.local.store"]


def test_relative_import_of_another_adapter_is_reported() -> None:
    bad = "from ..telephony import engine\n"
    assert [v.imported for v in check_module(bad, "app.crm.bad")] == [
        "app.telephony", "app.telephony.engine"]


def test_relative_import_from_a_package_init_resolves_against_the_package() -> None:
    bad = "from ... import ui\n"
    assert [v.imported for v in check_module(bad, "app.crm.local", is_package=True)] == [
        "app.ui"]


def test_ui_importing_a_backend_is_reported() -> None:
    bad = "from app.contactcenter.base import QueueState\n"
    assert check_module(bad, "app.ui.bad")


def test_a_name_that_only_starts_like_a_forbidden_package_is_allowed() -> None:
    assert check_module("import requests_toolbelt\nimport app.crmish\n", "app.core.ok") == []


def test_wiring_importing_a_backend_is_reported() -> None:
    bad = "from app.crm.local.store import LocalStore\n"
    assert [v.imported for v in check_module(bad, "app.wiring.bad")] == [
        "app.crm.local.store", "app.crm.local.store.LocalStore"]


def test_an_adapter_may_import_itself_and_core() -> None:
    ok = "from app.core.crm import CrmBackend\nfrom app.crm.local import store\n"
    assert check_module(ok, "app.crm.local.pages") == []


def test_a_tree_with_a_bad_module_fails(tmp_path: Path) -> None:
    (tmp_path / "app" / "core").mkdir(parents=True)
    (tmp_path / "app" / "core" / "good.py").write_text("import json\n")
    (tmp_path / "app" / "core" / "bad.py").write_text("import pjsua2 as pj\n")
    assert [(v.module, v.imported) for v in check_tree(tmp_path)] == [("app.core.bad", "pjsua2")]


# --- the house keeps the rules ----------------------------------------------------------


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.package)
def test_the_app_keeps_the_rule(rule: Rule) -> None:
    broken = [str(v) for v in check_tree(APP.parent) if _within(v.module, rule.package)]
    assert broken == []
