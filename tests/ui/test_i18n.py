"""Finnish and English UI: the language setting, the shipped catalogue, the main flows in fi.

The catalogue test runs the same pyside6-lupdate scan as packaging/update_translations.py
over a copy of the .ts: a string added to the code without a Finnish translation fails
here, and the compiled .qm must say what the .ts says.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from PySide6.QtCore import QLocale, QTranslator
from PySide6.QtWidgets import QAbstractButton, QApplication, QGroupBox, QLabel, QWidget
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.compose import build_app
from app.config import Settings, SipSettings
from app.core.history import MEMORY, History
from app.desktop.notifications import IncomingCallToast
from app.i18n import catalogue, install_translator, remove_translators, resolve_language
from tests.fakes.memory_secrets import MemorySecretStore
from tests.fakes.scripted_engine import ScriptedEngine

REPO = Path(__file__).resolve().parents[2]
HAS_LUPDATE = bool(shutil.which("pyside6-lupdate")
                   or (Path(sys.executable).parent / "pyside6-lupdate").exists())


def _update_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "update_translations", REPO / "packaging" / "update_translations.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def messages(ts: Path) -> list[tuple[str, str, str]]:
    """(context, source, translation) of every current, non-plural message."""
    out = []
    for context in ET.parse(ts).getroot().iter("context"):
        for message in context.iter("message"):
            tr = message.find("translation")
            assert tr is not None
            if tr.get("type") in ("vanished", "obsolete") or message.get("numerus"):
                continue
            out.append((context.findtext("name", ""), message.findtext("source", ""),
                        tr.text or ""))
    return out


# -- choosing the language ----------------------------------------------------------------

@pytest.mark.parametrize(("setting", "system", "expected"), [
    ("fi", "en_US", "fi"),
    ("en", "fi_FI", "en"),
    ("system", "fi_FI", "fi"),
    ("system", "en_GB", "en"),
    ("system", "de_DE", "en"),  # no German: the source language
    ("system", "sv_FI", "en"),  # Swedish in Finland is not Finnish
])
def test_language_from_setting_or_system_locale(setting: str, system: str,
                                                expected: str) -> None:
    assert resolve_language(setting, QLocale(system)) == expected


# -- the catalogue -----------------------------------------------------------------------

@pytest.mark.skipif(not HAS_LUPDATE, reason="pyside6-lupdate is not installed")
def test_scan_of_the_code_finds_no_untranslated_string(tmp_path: Path) -> None:
    script = _update_script()
    copy = tmp_path / "switchboard_fi.ts"
    shutil.copy(catalogue("fi"), copy)
    script.lupdate(copy, "fi")
    assert script.unfinished(copy) == []
    found = {(c, s) for c, s, _ in messages(copy)}
    # The main flows are all in it (the _tr helpers' strings too).
    for key in [("CallCard", "Answer"), ("CallCard", "Hang up"), ("CallCard", "Mute"),
                ("CallCard", "Hold"), ("IncomingCallToast", "Incoming call"),
                ("Status", "Do not disturb"), ("Tray", "Quit Switchboard"),
                ("SwitchboardApp", "The phone could not start: %s"),
                ("CrmWiring", "Logged"), ("links", "There is nothing to dial.")]:
        assert key in found, key


def test_compiled_catalogue_matches_its_source(qapp: QApplication) -> None:
    translator = QTranslator()
    assert translator.load(str(catalogue("fi").with_suffix(".qm")))
    for context, source, translation in messages(catalogue("fi")):
        assert translator.translate(context, source) == translation, (context, source)


# -- the main window in Finnish -----------------------------------------------------------

@pytest.fixture
def finnish(qapp: QApplication) -> Iterator[None]:
    assert install_translator(qapp, "fi") == "fi"
    yield
    remove_translators(qapp)


@pytest.fixture
def make_app(qtbot: QtBot) -> Iterator[Callable[[], SwitchboardApp]]:
    made: list[SwitchboardApp] = []

    def make() -> SwitchboardApp:
        def factory(sip: SipSettings, **kw: Any) -> ScriptedEngine:
            return ScriptedEngine(sip, **kw)

        settings = Settings()
        settings.phone.audio = "null"  # a UI test: no sound card in the way
        app = build_app(None, settings, secrets=MemorySecretStore(), engine_factory=factory,
                        history=History(MEMORY))
        qtbot.addWidget(app.window)
        made.append(app)
        app.start()
        qtbot.waitExposed(app.window)
        qtbot.waitUntil(lambda: app.engine_running)
        return app

    yield make
    for app in made:
        app.shutdown()


def shown_texts(root: QWidget) -> set[str]:
    out = set()
    for widget in [root, *root.findChildren(QWidget)]:
        if widget is not root and not widget.isVisibleTo(root):
            continue
        if isinstance(widget, (QLabel, QAbstractButton)):
            out.add(widget.text())
        elif isinstance(widget, QGroupBox):
            out.add(widget.title())
    return {t for t in out if t.strip()}


def left_in_english(texts: set[str]) -> set[str]:
    english = {s for _, s, t in messages(catalogue("fi")) if t and t != s}
    return texts & english


def test_main_window_and_toast_speak_finnish(
        finnish: None, qtbot: QtBot, make_app: Callable[[], SwitchboardApp]) -> None:
    app = make_app()
    window = app.window
    engine: ScriptedEngine = app.engine  # type: ignore[assignment]
    menu = app.availability.menu
    assert [r.text() for r in menu.status_box.findChildren(QAbstractButton)][:4] == [
        "Tavoitettavissa", "Varattu", "Älä häiritse", "Poissa töistä"]

    handle = engine.ring(queue="Myynti")
    qtbot.waitUntil(lambda: handle in window.call_panel.cards)
    card = window.call_panel.cards[handle]
    assert card.answer_button.text() == "Vastaa"
    assert card.decline_button.text() == "Hylkää"
    assert card.queue_label.text() == "Jono: Myynti"
    assert card.status_label.text().startswith("Saapuva puhelu")
    assert not left_in_english(shown_texts(window))

    card.answer_button.click()
    qtbot.waitUntil(lambda: card.hangup_button.isVisible())
    assert card.hangup_button.text() == "Lopeta puhelu"
    assert card.mute_button.text() == "Mykistä"
    assert card.hold_button.text() == "Pito"
    assert menu.current.text() == "Puhelussa (sitten Tavoitettavissa)"
    assert not left_in_english(shown_texts(window))

    card.hangup_button.click()
    qtbot.waitUntil(lambda: not window.call_panel.cards)
    qtbot.waitUntil(lambda: menu.current.text().startswith("Jälkikirjaus"))
    assert not left_in_english(shown_texts(window))

    toast = IncomingCallToast(7, "", "+358401234567")
    qtbot.addWidget(toast)
    assert toast.title_label.text() == "Saapuva puhelu"
    assert toast.queue_label.text() == "Suora puhelu"
    assert (toast.answer_button.text(), toast.decline_button.text()) == ("Vastaa", "Hylkää")


def test_status_names_stay_the_configured_ones_behind_the_finnish_labels(
        finnish: None, qtbot: QtBot, make_app: Callable[[], SwitchboardApp]) -> None:
    app = make_app()
    menu = app.availability.menu
    dnd = next(r for r in menu.status_box.findChildren(QAbstractButton)
               if r.text() == "Älä häiritse")
    with qtbot.waitSignal(menu.status_requested, timeout=1000) as blocker:
        dnd.click()
    assert blocker.args == ["Do not disturb", 0]  # what the core and phone system know
    qtbot.waitUntil(lambda: app.availability.availability.current.status.name
                    == "Do not disturb")
    assert menu.current.text() == "Älä häiritse"
