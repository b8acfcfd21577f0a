"""The colleagues list alone: dots and notes as told, one dial per click; the setting parsed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.contactcenter import parse_colleagues
from app.ui.colleagues import AVAILABLE, BUSY, UNKNOWN, ColleagueList

BEA, CARL = "sip:bea@pbx.example.com", "sip:carl@pbx.example.com;transport=tcp"


def test_parse_colleagues_names_bare_uris_and_skips_bad_lines(
        caplog: pytest.LogCaptureFixture) -> None:
    entries = [f"Bea Virtanen = {BEA}", CARL, "Dup=" + BEA, "Nobody=", "Phone=+35840123"]
    assert parse_colleagues(entries) == [("Bea Virtanen", BEA), ("carl", CARL)]
    assert caplog.text.count("skipped") == 2


@pytest.fixture
def widget(qtbot: QtBot) -> ColleagueList:
    w = ColleagueList()
    qtbot.addWidget(w)
    w.set_colleagues([("Bea", BEA), ("Carl", CARL)])
    w.show()
    qtbot.waitExposed(w)
    return w


def test_presence_shown_per_colleague(widget: ColleagueList) -> None:
    assert widget.state_of(BEA) == (UNKNOWN, "Bea — Presence not known")
    widget.show_presence(BEA, False, "Do not disturb")
    widget.show_presence(CARL, True, "")
    widget.show_presence("sip:stranger@example.com", True, "x")  # not listed: ignored
    assert widget.state_of(BEA) == (BUSY, "Bea — Do not disturb")
    assert widget.state_of(CARL) == (AVAILABLE, "Carl — Available")
    widget.show_presence(BEA, None)
    assert widget.state_of(BEA)[0] == UNKNOWN
    assert not widget.empty.isVisible()


def test_click_asks_to_dial_once_even_on_a_double_click(qtbot: QtBot,
                                                        widget: ColleagueList) -> None:
    dialled: list[str] = []
    widget.dial_requested.connect(dialled.append)
    for row in (1, 1, 0):
        rect = widget.list.visualItemRect(widget.list.item(row))
        qtbot.mouseClick(widget.list.viewport(), Qt.MouseButton.LeftButton,
                         pos=rect.center())
    assert dialled == [CARL, BEA]


def test_no_colleagues_says_where_they_come_from(qtbot: QtBot) -> None:
    w = ColleagueList()
    qtbot.addWidget(w)
    w.show()
    assert w.empty.isVisible() and not w.list.isVisible()
