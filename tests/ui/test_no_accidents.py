"""Nothing changes by accident: a wheel over an unfocused combo box changes nothing (it once
turned "Display number" into "Don't show number" while the agent scrolled), and the number
shown on outbound calls is chosen in one place."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox
from pytestqt.qtbot import QtBot

from app.application import SwitchboardApp
from app.core.display_number import HIDDEN
from app.ui.status_menu import StatusMenu
from app.ui.widgets import NoWheelComboBox
from tests.fakes.scripted_engine import ScriptedEngine
from tests.ui.test_main_window import make_app as make_app  # the fixtures, re-exported
from tests.ui.test_main_window import settings as settings


def wheel(widget: QComboBox, steps: int = -1) -> None:
    """A mouse wheel turned over the middle of `widget` (negative: towards the agent)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_every_combo_box_of_the_window_and_its_dialogs_ignores_an_unfocused_wheel(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp]) -> None:
    app = make_app()
    assert app.settings_wiring is not None
    owners = [app.window, app.settings_wiring.dialog, app.settings_wiring.assistant]
    combos = [c for owner in owners for c in owner.findChildren(QComboBox)]
    assert len(combos) >= 8
    plain = [c.objectName() or repr(c) for c in combos if not isinstance(c, NoWheelComboBox)]
    assert plain == []
    for combo in combos:
        if combo.count() < 2:
            combo.addItems(["one more", "and another"])  # something a wheel could pick
        combo.setCurrentIndex(0)
        combo.clearFocus()
        wheel(combo)
        assert combo.currentIndex() == 0, combo.objectName()


def test_a_focused_combo_box_still_follows_the_wheel(qtbot: QtBot) -> None:
    combo = NoWheelComboBox()
    qtbot.addWidget(combo)
    combo.addItems(["a", "b", "c"])
    combo.show()
    qtbot.waitExposed(combo)
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus)
    wheel(combo)
    assert combo.currentIndex() == 1


def test_scrolling_the_column_over_the_display_number_keeps_the_agents_choice(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp]) -> None:
    app = make_app()
    box = app.window.dialpad.caller_id_box
    before = (app.session.caller_id, box.currentIndex())
    for _ in range(5):
        wheel(box)
        wheel(box, +1)
    assert (app.session.caller_id, box.currentIndex()) == before


def test_one_chooser_offers_every_number_and_dials_with_the_choice(
        qtbot: QtBot, make_app: Callable[..., SwitchboardApp]) -> None:
    app = make_app()  # caller ids +358912345 and +358987654
    engine: ScriptedEngine = app.engine  # type: ignore[assignment]
    menu = app.window.status_area.findChild(StatusMenu)
    assert menu is not None
    assert not [c for c in menu.findChildren(QComboBox)
                if c.findData(HIDDEN) >= 0]  # the status popup has no second chooser
    box = app.window.dialpad.caller_id_box
    assert [box.itemText(i) for i in range(box.count())] == [
        "Work number (09 12345)", "09 87654", "Don't show number"]
    assert box.currentData() == "+358912345"
    box.setCurrentIndex(2)
    box.activated.emit(2)
    pad = app.window.dialpad
    qtbot.keyClicks(pad.number_edit, "040 1234567")
    qtbot.mouseClick(pad.call_button, Qt.MouseButton.LeftButton)
    assert engine.commands[-1] == ("dial", "+358401234567", "anonymous")
    assert box.currentData() == HIDDEN  # still what the agent chose
