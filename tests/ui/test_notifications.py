"""Incoming-call toast: Answer/Decline intents, window to front, missed count, placement."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from pytestqt.qtbot import QtBot

from app.desktop.notifications import IncomingCallToast, Notifier, toast_position


@pytest.fixture
def notifier(qtbot: QtBot) -> Notifier:
    n = Notifier(region="FI")
    yield n
    n.close_all()


def test_toast_shows_caller_queue_and_both_buttons(qtbot: QtBot, notifier: Notifier) -> None:
    notifier.incoming_call(7, "Aino Virtanen", "+358401234567", "Sales")
    toast = notifier.toast(7)
    assert toast is not None and toast.isVisible()
    assert toast.name_label.text() == "Aino Virtanen"
    assert toast.number_label.text() == "040 1234567"
    assert "Sales" in toast.queue_label.text()
    assert toast.answer_button.text() == "Answer"
    assert toast.decline_button.text() == "Decline"
    flags = toast.windowFlags()  # (Tool too, except offscreen: it cannot raise windows)
    assert flags & Qt.WindowType.FramelessWindowHint
    assert flags & Qt.WindowType.WindowStaysOnTopHint
    assert toast.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)


def test_unknown_caller_shows_the_number_as_the_name(qtbot: QtBot, notifier: Notifier) -> None:
    notifier.incoming_call(1, "", "+442079460018")
    toast = notifier.toast(1)
    assert toast is not None
    assert toast.name_label.text() == "+44 20 7946 0018"
    assert not toast.number_label.isVisible()
    assert toast.queue_label.text() == "Direct call"


def test_caller_name_is_plain_text(qtbot: QtBot, notifier: Notifier) -> None:
    notifier.incoming_call(1, "<b>boss</b><img src=x>", "+358401234567")
    toast = notifier.toast(1)
    assert toast is not None
    assert toast.name_label.textFormat() == Qt.TextFormat.PlainText


def test_answer_emits_intent_brings_window_and_closes(qtbot: QtBot, notifier: Notifier) -> None:
    notifier.incoming_call(7, "Aino", "+358401234567", "Sales")
    toast = notifier.toast(7)
    assert toast is not None
    answered: list[int] = []
    notifier.answer_requested.connect(answered.append)
    with qtbot.waitSignal(notifier.show_window_requested, timeout=1000):
        qtbot.mouseClick(toast.answer_button, Qt.MouseButton.LeftButton)
    assert answered == [7]
    assert notifier.toast(7) is None


def test_decline_emits_intent_only(qtbot: QtBot, notifier: Notifier) -> None:
    notifier.incoming_call(8, "Aino", "+358401234567")
    toast = notifier.toast(8)
    assert toast is not None
    with qtbot.assertNotEmitted(notifier.show_window_requested), \
            qtbot.waitSignal(notifier.decline_requested, timeout=1000) as blocker:
        qtbot.mouseClick(toast.decline_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [8]
    assert notifier.toast(8) is None


def test_clicking_the_toast_brings_the_window(qtbot: QtBot, notifier: Notifier) -> None:
    notifier.incoming_call(9, "Aino", "+358401234567")
    toast = notifier.toast(9)
    assert toast is not None
    with qtbot.assertNotEmitted(notifier.answer_requested), \
            qtbot.waitSignal(notifier.show_window_requested, timeout=1000):
        qtbot.mouseClick(toast.name_label, Qt.MouseButton.LeftButton)
    assert notifier.toast(9) is not None  # looking is not answering


def test_missed_calls_are_counted_and_cleared(qtbot: QtBot, notifier: Notifier) -> None:
    seen: list[int] = []
    notifier.missed_count_changed.connect(seen.append)
    notifier.incoming_call(1, "A", "+358401234567")
    notifier.incoming_call(2, "B", "+358401234568")
    notifier.call_missed(1)
    notifier.withdraw(2)  # answered on another device: not missed
    notifier.incoming_call(3, "C", "+358401234569")
    notifier.call_missed(3)
    assert notifier.missed_count == 2
    notifier.clear_missed()
    assert seen == [1, 2, 0]
    assert notifier.toast(1) is None and notifier.toast(3) is None


def test_second_call_stacks_and_restacks(qtbot: QtBot, notifier: Notifier) -> None:
    notifier.incoming_call(1, "A", "+358401234567")
    notifier.incoming_call(2, "B", "+358401234568")
    first, second = notifier.toast(1), notifier.toast(2)
    assert first is not None and second is not None
    assert second.y() < first.y()  # stacked upwards from the bottom corner
    notifier.withdraw(1)
    assert second.pos() == first.pos()


def test_toast_alone_is_a_widget(qtbot: QtBot) -> None:
    toast = IncomingCallToast(3, "Aino", "+358401234567", "Support")
    qtbot.addWidget(toast)
    with qtbot.waitSignal(toast.answer_clicked) as blocker:
        toast.answer_button.click()
    assert blocker.args == [3]


SCREEN = QRect(0, 0, 1920, 1050)


def test_position_without_a_tray_is_the_bottom_right_corner() -> None:
    pos = toast_position((300, 120), SCREEN, None)
    assert pos == QPoint(1920 - 300 - 12, 1050 - 120 - 12)
    assert toast_position((300, 120), SCREEN, QRect(), 1).y() == pos.y() - 132


def test_position_follows_a_tray_at_the_top() -> None:
    pos = toast_position((300, 120), SCREEN, QRect(1880, 0, 24, 24))
    assert pos.y() == 24 + 12
    assert pos.x() + 300 <= 1920 - 12 + 1


def test_position_follows_a_tray_at_the_bottom_left() -> None:
    pos = toast_position((300, 120), SCREEN, QRect(10, 1030, 20, 20))
    assert pos.x() == 12
    assert pos.y() + 120 <= 1030


def test_a_toast_the_crm_names_stays_on_screen(qtbot: QtBot, notifier: Notifier) -> None:
    # Seen at 1024x600 with no tray: the CRM's name and its "From …" line made the toast
    # taller after it was placed in the bottom-right corner, and Answer/Decline went
    # below the screen's edge.
    notifier.incoming_call(7, "", "+358401234567", "Customer Service")
    toast = notifier.toast(7)
    assert toast is not None
    screen = toast.screen().availableGeometry()
    assert screen.contains(toast.frameGeometry())
    notifier.show_crm(7, "Aino Virtanen", "From Built-in CRM")
    qtbot.waitUntil(lambda: toast.crm_label.isVisible())
    assert toast.crm_label.text() == "From Built-in CRM"
    assert screen.contains(toast.frameGeometry()), (toast.frameGeometry(), screen)
    for button in (toast.answer_button, toast.decline_button):
        assert screen.contains(QRect(button.mapToGlobal(QPoint(0, 0)), button.size()))
