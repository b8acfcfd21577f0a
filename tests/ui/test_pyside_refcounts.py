"""The installed PySide6 must not leak references to True or None.

PySide6 6.12.0 on CPython 3.11 released one reference to True on every Signal.emit() and
about one to None on every void Qt call from Python; the interpreter then aborted with
"bool_dealloc"/"none_dealloc" after a few hundred calls — a phone that dies mid-shift.
pyproject.toml keeps such a release out; this test catches the next one.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

ROUNDS = 200


class _Probe(QObject):
    ping = Signal(object)


def test_emits_and_void_calls_keep_true_and_none_alive(qtbot: QtBot) -> None:
    probe = _Probe()
    received: list[object] = []
    probe.ping.connect(received.append)
    label = QLabel()
    qtbot.addWidget(label)
    true_before, none_before = sys.getrefcount(True), sys.getrefcount(None)
    for i in range(ROUNDS):
        probe.ping.emit(i)
        label.setText(str(i))
        label.setEnabled(i % 2 == 0)
    assert len(received) == ROUNDS
    # A leak shows as a loss of about one reference per round; allow small noise.
    assert sys.getrefcount(True) - true_before > -ROUNDS // 4
    assert sys.getrefcount(None) - none_before > -ROUNDS // 4
