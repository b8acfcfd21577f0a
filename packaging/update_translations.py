"""Refresh the Qt translation sources and compile them (run from the repository root).

    python packaging/update_translations.py          # lupdate + lrelease
    python packaging/update_translations.py --check  # exit 1 if a string is untranslated

`pyside6-lupdate` finds `self.tr("...")`, `QCoreApplication.translate("Ctx", "...")` and
`QT_TRANSLATE_NOOP`, but not the modules' `_tr("...")` helpers (a function whose body is
`QCoreApplication.translate("Ctx", text)`). Their literal arguments are collected here with
`ast` and handed to lupdate as a generated file of `QT_TRANSLATE_NOOP("Ctx", "...")` lines,
so every string lands in its real context. Qt-free modules that get the translate
function as a `_tr` parameter (app/crm/local/pages.py) declare `TRANSLATION_CONTEXT = "Ctx"`
at module level instead of a helper; their `_tr("...")` literals are collected the same
way, and there a `_tr(...)` call with anything but one string literal is reported (its text
could never be in the catalogue). Existing translations are kept; strings that disappeared
from the code are marked vanished by lupdate.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "resources" / "translations"
LANGUAGES = ("fi",)  # English is the source language


def _tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    return found


def _helper_context(tree: ast.Module) -> str | None:
    """The context of a module-level `def _tr(text): return translate("Ctx", text)`."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "_tr":
            for call in ast.walk(node):
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "translate" and call.args
                        and isinstance(call.args[0], ast.Constant)
                        and isinstance(call.args[0].value, str)):
                    return call.args[0].value
    return None


def _declared_context(tree: ast.Module) -> str | None:
    """The value of a module-level `TRANSLATION_CONTEXT = "Ctx"` (Qt-free modules)."""
    for node in tree.body:
        target = (node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1
                  else node.target if isinstance(node, ast.AnnAssign) else None)
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if (isinstance(target, ast.Name) and target.id == "TRANSLATION_CONTEXT"
                and isinstance(value, ast.Constant) and isinstance(value.value, str)):
            return value.value
    return None


def _literal(node: ast.Call) -> str | None:
    if (len(node.args) == 1 and not node.keywords and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)):
        return node.args[0].value
    return None


def _marked_calls(sources: list[Path]) -> list[tuple[Path, str, bool, ast.Call]]:
    """(path, context, declared?, call) for every `_tr(...)` call in a module with a context."""
    found = []
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        declared = _declared_context(tree)
        context = declared or _helper_context(tree)
        if context is None:
            continue
        found += [(path, context, declared is not None, node) for node in ast.walk(tree)
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id == "_tr"]
    return found


def helper_strings(sources: list[Path]) -> list[tuple[str, str]]:
    """(context, text) for every `_tr("literal")` call in modules with a `_tr` context."""
    return [(context, text) for _, context, _, call in _marked_calls(sources)
            if (text := _literal(call)) is not None]


def dynamic_calls(sources: list[Path]) -> list[str]:
    """`path:line` of `_tr(...)` calls without a literal in declared-context modules."""
    return [f"{path.relative_to(ROOT)}:{call.lineno}"
            for path, _, declared, call in _marked_calls(sources)
            if declared and _literal(call) is None]


def unfinished(ts: Path) -> list[tuple[str, str]]:
    """(context, source) of every current message without a finished translation."""
    out = []
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name", "")
        for message in context.iter("message"):
            tr = message.find("translation")
            kind = tr.get("type", "") if tr is not None else "unfinished"
            if kind in ("vanished", "obsolete"):
                continue
            text = "".join(tr.itertext()) if tr is not None else ""
            if kind == "unfinished" or not text.strip():
                out.append((name, message.findtext("source", "")))
    return out


def app_sources() -> list[Path]:
    return sorted((ROOT / "app").rglob("*.py"))


def lupdate(ts: Path, language: str) -> None:
    """Bring `ts` up to date with the strings in app/ (keeping its translations)."""
    sources = app_sources()
    with tempfile.TemporaryDirectory() as tmp:
        stub = Path(tmp) / "helper_strings.py"
        stub.write_text("".join(f"QT_TRANSLATE_NOOP({c!r}, {t!r})\n"
                                for c, t in helper_strings(sources)), encoding="utf-8")
        subprocess.run([_tool("pyside6-lupdate"), *map(str, sources), str(stub),
                        "-locations", "none", "-source-language", "en",
                        "-target-language", language, "-ts", str(ts)],
                       check=True, stdout=subprocess.DEVNULL)


def update() -> None:
    for lang in LANGUAGES:
        ts = TRANSLATIONS / f"switchboard_{lang}.ts"
        lupdate(ts, lang)
        subprocess.run([_tool("pyside6-lrelease"), str(ts), "-qm",
                        str(ts.with_suffix(".qm"))], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only report untranslated strings (exit 1 if any)")
    args = parser.parse_args(argv)
    dynamic = dynamic_calls(app_sources())
    for where in dynamic:
        print(f"{where}: _tr() needs one string literal to be translatable")
    if not args.check:
        update()
    missing = [(lang, c, s) for lang in LANGUAGES
               for c, s in unfinished(TRANSLATIONS / f"switchboard_{lang}.ts")]
    for lang, context, source in missing:
        print(f"{lang}: untranslated in {context}: {source!r}")
    return 1 if missing or dynamic else 0


if __name__ == "__main__":
    raise SystemExit(main())
