"""Plays a call recording inside the app (Qt Multimedia): what it plays, where it is, Stop.

The stereo file (far end left, agent right) plays as it is, on the system's default
output. It shows state and emits nothing the rest of the app must act on.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl, Slot
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from app.core.duration import format_duration


class RecordingPlayer(QWidget):
    """Hidden until something plays."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recording_player")
        self.player = QMediaPlayer(self)
        self.output = QAudioOutput(self)
        self.player.setAudioOutput(self.output)
        self.label = QLabel(self)
        self.label.setObjectName("recording_player_label")
        self.stop_button = QPushButton(self.tr("Stop"), self)
        self.stop_button.setObjectName("recording_player_stop")
        self.stop_button.clicked.connect(self.stop)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.stop_button)
        self._name = ""
        self.player.positionChanged.connect(self._show_position)
        self.player.durationChanged.connect(self._show_position)
        self.player.playbackStateChanged.connect(self._state_changed)
        self.player.errorOccurred.connect(self._error)
        self.hide()

    def play(self, path: str) -> None:
        if not path or not Path(path).is_file():
            self._name = Path(path).name if path else ""
            self.label.setText(self.tr("The recording %s is no longer there.") % self._name)
            self.show()
            return
        self._name = Path(path).name
        self.player.setSource(QUrl.fromLocalFile(path))
        self.player.play()
        self.show()
        self._show_position()

    @Slot()
    def stop(self) -> None:
        self.player.stop()
        self.hide()

    @Slot()
    def _show_position(self) -> None:
        position = format_duration(self.player.position() / 1000)
        duration = format_duration(self.player.duration() / 1000)
        self.label.setText(self.tr("Playing %s  %s / %s") % (self._name, position, duration))

    @Slot(QMediaPlayer.PlaybackState)
    def _state_changed(self, state: QMediaPlayer.PlaybackState) -> None:
        if state is QMediaPlayer.PlaybackState.StoppedState and \
                self.player.mediaStatus() is QMediaPlayer.MediaStatus.EndOfMedia:
            self.hide()

    @Slot(QMediaPlayer.Error, str)
    def _error(self, error: QMediaPlayer.Error, message: str) -> None:
        self.label.setText(self.tr("Cannot play %s: %s") % (self._name, message))
        self.show()


__all__ = ["RecordingPlayer"]
