"""The status menu shows availability state and emits the agent's intents."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.config import AvailabilitySettings
from app.core.availability import Availability
from app.ui.status_menu import StatusMenu

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def av() -> Availability:
    return Availability.from_settings(AvailabilitySettings(wrap_up_seconds=30), T0)


@pytest.fixture
def menu(qtbot: QtBot, av: Availability) -> StatusMenu:
    widget = StatusMenu()
    qtbot.addWidget(widget)
    widget.set_statuses(av.statuses, av.durations)
    widget.show_availability(av.current, av.remaining(T0))
    return widget


def wire(menu: StatusMenu, av: Availability, now: list[datetime]) -> None:
    """What the composition root does: intents → core → state back to the widget."""

    def refresh() -> None:
        back = av.returns_to
        menu.show_availability(av.current, av.remaining(now[0]), back.name if back else "")
        menu.show_upcoming(av.upcoming)

    def on_status(name: str, minutes: int) -> None:
        av.set_status(name, now[0], duration=timedelta(minutes=minutes) if minutes else None)
        refresh()

    def on_add(start: datetime, name: str, end: datetime | None) -> None:
        try:
            av.schedule(start, name, end, now[0])
        except ValueError as exc:
            menu.show_error(str(exc))
            return
        refresh()

    menu.status_requested.connect(on_status)
    menu.pool_calls_requested.connect(lambda on: (av.set_pool_calls(on, now[0]), refresh()))
    menu.wrap_up_end_requested.connect(lambda: (av.end_wrap_up(now[0]), refresh()))
    menu.schedule_add_requested.connect(on_add)
    menu.schedule_remove_requested.connect(lambda i: (av.unschedule(i), refresh()))


def test_lists_statuses_and_durations(menu: StatusMenu) -> None:
    assert list(menu._radios) == ["Available", "Busy", "Do not disturb", "Off work", "Lunch",
                                  "Meeting"]
    assert [menu.duration.itemText(i) for i in range(menu.duration.count())] == [
        "Until changed", "15 min", "30 min", "1 h", "2 h"]
    assert menu.current.text() == "Available"
    assert menu.remaining.text() == "until changed"


def test_choosing_busy_for_an_hour(qtbot: QtBot, menu: StatusMenu, av: Availability) -> None:
    wire(menu, av, [T0])
    menu.duration.setCurrentIndex(3)
    with qtbot.waitSignal(menu.status_requested) as sig:
        qtbot.mouseClick(menu._radios["Busy"], Qt.MouseButton.LeftButton)
    assert sig.args == ["Busy", 60]
    assert menu.current.text() == "Busy"
    assert menu.remaining.text() == "1:00:00 left, then Available"
    assert av.current.status.name == "Busy"


def test_changing_duration_reapplies_checked_status(qtbot: QtBot, menu: StatusMenu,
                                                    av: Availability) -> None:
    wire(menu, av, [T0])
    qtbot.mouseClick(menu._radios["Do not disturb"], Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(menu.status_requested) as sig:
        menu.duration.setCurrentIndex(2)
        menu.duration.activated.emit(2)
    assert sig.args == ["Do not disturb", 30]
    assert menu.remaining.text() == "30:00 left, then Available"


def test_pool_calls_toggle(qtbot: QtBot, menu: StatusMenu, av: Availability) -> None:
    wire(menu, av, [T0])
    assert menu.pool_calls.isChecked()
    with qtbot.waitSignal(menu.pool_calls_requested) as sig:
        qtbot.mouseClick(menu.pool_calls, Qt.MouseButton.LeftButton)
    assert sig.args == [False]
    assert av.current.pool_calls is False and not menu.pool_calls.isChecked()


def test_in_call_and_wrap_up_are_shown_with_early_end(qtbot: QtBot, menu: StatusMenu,
                                                      av: Availability) -> None:
    wire(menu, av, [T0])
    av.call_started(1, T0)
    menu.show_availability(av.current, av.remaining(T0))
    assert menu.current.text() == "In a Call (then Available)"
    assert menu.end_wrap_up.isHidden()
    av.call_answered(1, T0)
    av.call_ended(1, T0 + timedelta(minutes=3))
    menu.show_availability(av.current, av.remaining(T0 + timedelta(minutes=3)))
    assert menu.current.text() == "Wrap Up (then Available)"
    assert menu.remaining.text() == "0:30 left"
    assert not menu.end_wrap_up.isHidden()
    qtbot.mouseClick(menu.end_wrap_up, Qt.MouseButton.LeftButton)
    assert menu.current.text() == "Available" and menu.end_wrap_up.isHidden()


def test_add_and_remove_upcoming(qtbot: QtBot, menu: StatusMenu, av: Availability) -> None:
    wire(menu, av, [T0])
    menu.reset_new_schedule(T0)
    menu.new_status.setCurrentText("Lunch")
    with qtbot.waitSignal(menu.schedule_add_requested) as sig:
        qtbot.mouseClick(menu.add_upcoming, Qt.MouseButton.LeftButton)
    start, name, end = sig.args
    assert name == "Lunch" and end - start == timedelta(hours=1)
    assert menu.upcoming.count() == 1 and "Lunch" in menu.upcoming.item(0).text()
    menu.upcoming.setCurrentRow(0)
    with qtbot.waitSignal(menu.schedule_remove_requested):
        qtbot.mouseClick(menu.remove_upcoming, Qt.MouseButton.LeftButton)
    assert menu.upcoming.count() == 0 and av.upcoming == []


def test_upcoming_without_end(qtbot: QtBot, menu: StatusMenu, av: Availability) -> None:
    wire(menu, av, [T0])
    menu.new_has_end.setChecked(False)
    assert not menu.new_end.isEnabled()
    with qtbot.waitSignal(menu.schedule_add_requested) as sig:
        qtbot.mouseClick(menu.add_upcoming, Qt.MouseButton.LeftButton)
    assert sig.args[2] is None


def test_invalid_schedule_shows_the_core_error(qtbot: QtBot, menu: StatusMenu,
                                               av: Availability) -> None:
    wire(menu, av, [T0])
    menu.new_end.setDateTime(menu.new_start.dateTime().addSecs(-600))
    qtbot.mouseClick(menu.add_upcoming, Qt.MouseButton.LeftButton)
    assert not menu.error.isHidden() and "end after it starts" in menu.error.text()
    assert av.upcoming == []


def test_new_schedule_defaults_to_the_next_hour_as_the_same_instant(
        qtbot: QtBot, menu: StatusMenu, monkeypatch: pytest.MonkeyPatch) -> None:
    # `now` comes from the app's clock in UTC; the edit shows local time. What the agent
    # adds must be the instant that was proposed, whatever the machine's time zone.
    monkeypatch.setenv("TZ", "Asia/Kolkata")  # UTC+5:30: no whole-hour coincidences
    time.tzset()
    try:
        now = datetime(2026, 11, 24, 9, 20, tzinfo=timezone.utc)
        menu.reset_new_schedule(now)
        menu.new_has_end.setChecked(True)
        with qtbot.waitSignal(menu.schedule_add_requested) as sig:
            menu._on_add()
        start, _name, end = sig.args
    finally:
        monkeypatch.undo()
        time.tzset()
    assert start == datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
    assert end == datetime(2026, 11, 24, 11, 0, tzinfo=timezone.utc)


def test_busy_and_in_a_call_have_different_colours(menu: StatusMenu,
                                                   av: Availability) -> None:
    shown: list[tuple[str, str]] = []
    menu.shown_changed.connect(lambda text, colour: shown.append((text, colour)))
    av.set_status("Busy", T0)
    menu.show_availability(av.current, av.remaining(T0))
    av.call_started(1, T0)
    menu.show_availability(av.current, av.remaining(T0))
    (busy_text, busy), (call_text, in_call) = shown[-2:]
    assert (busy_text, call_text) == ("Busy", "In a Call")
    assert busy != in_call  # issue 10: the two looked the same
