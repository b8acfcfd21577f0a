""""Select your status": statuses with durations, pool calls, upcoming availabilities.

Shows the availability state it is given and emits what the agent asks for; the rules
(what a status allows, when it ends, whether a schedule is valid) live in
app.core.availability, and the composition root connects the two:

    status_requested(name, minutes)        minutes 0 = until changed
    pool_calls_requested(on)
    wrap_up_end_requested()
    schedule_add_requested(start, name, end)   datetimes (aware, local zone); end may be None
    schedule_remove_requested(id)
    source_refresh_requested()             read the CRM's presence again (`show_source`)

The number shown on outbound calls is chosen in one place only, under the dial pad.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QDateTime, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDateTimeEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.core.availability import Change, Phase, ScheduledAvailability, Status
from app.core.duration import format_duration
from app.ui.widgets import NoWheelComboBox

# Badge colours by status type, and for the call phases that override it.
_COLOURS = {"available": "#107c10", "busy": "#c239b3", "dnd": "#a4262c", "offwork": "#605e5c",
            "in_call": "#0f6cbd", "wrap_up": "#ca5010"}  # in a call: not busy's purple


# The default status names (config `availability.statuses`) and the call phases, for
# pyside6-lupdate; `status_label` translates them where they are shown.
DEFAULT_STATUS_NAMES = (
    QT_TRANSLATE_NOOP("Status", "Available"),
    QT_TRANSLATE_NOOP("Status", "Busy"),
    QT_TRANSLATE_NOOP("Status", "Do not disturb"),
    QT_TRANSLATE_NOOP("Status", "Off work"),
    QT_TRANSLATE_NOOP("Status", "Lunch"),
    QT_TRANSLATE_NOOP("Status", "Meeting"),
    QT_TRANSLATE_NOOP("Status", "In a Call"),
    QT_TRANSLATE_NOOP("Status", "Wrap Up"),
)


def status_label(name: str) -> str:
    """A status as the agent reads it: the default names are translated (context
    "Status"); names an administrator configured are shown as written. The name itself
    (what the core, the phone system and the logs use) never changes."""
    return QCoreApplication.translate("Status", name) if name else name


class StatusMenu(QWidget):
    status_requested = Signal(str, int)
    pool_calls_requested = Signal(bool)
    wrap_up_end_requested = Signal()
    schedule_add_requested = Signal(object, str, object)
    schedule_remove_requested = Signal(int)
    shown_changed = Signal(str, str)  # the status or call phase in force and its colour
    source_refresh_requested = Signal()  # the agent asks to read the CRM's presence again

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusMenu")
        self._statuses: list[Status] = []
        self._radios: dict[str, QRadioButton] = {}
        self._updating = False

        title = QLabel(self.tr("Select your status"), self)
        title.setStyleSheet("font-weight: bold; font-size: 14pt;")
        self.current = QLabel(self)
        self.current.setObjectName("currentStatus")
        self.current.setStyleSheet("font-weight: bold;")
        self.remaining = QLabel(self)
        self.remaining.setObjectName("remaining")
        self.end_wrap_up = QPushButton(self.tr("Ready — end wrap-up"), self)
        self.end_wrap_up.clicked.connect(self.wrap_up_end_requested)
        self.end_wrap_up.hide()
        now_row = QHBoxLayout()
        now_row.addWidget(self.current)
        now_row.addWidget(self.remaining)
        now_row.addStretch(1)
        now_row.addWidget(self.end_wrap_up)

        self.status_box = QGroupBox(self.tr("Status"), self)
        self._status_layout = QVBoxLayout(self.status_box)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self._group.buttonClicked.connect(self._on_status_clicked)
        self.duration = NoWheelComboBox(self)
        self.duration.activated.connect(self._on_duration_chosen)
        duration_row = QHBoxLayout()
        duration_row.addWidget(QLabel(self.tr("Choose for:"), self))
        duration_row.addWidget(self.duration, 1)

        self.pool_calls = QCheckBox(self.tr("Receive pool calls"), self)
        self.pool_calls.clicked.connect(self.pool_calls_requested)

        self.upcoming_box = QGroupBox(self.tr("Upcoming availabilities"), self)
        self.upcoming = QListWidget(self.upcoming_box)
        self.upcoming.setMaximumHeight(90)
        self.remove_upcoming = QPushButton(self.tr("Remove"), self.upcoming_box)
        self.remove_upcoming.clicked.connect(self._on_remove)
        self.new_start = QDateTimeEdit(self.upcoming_box)
        self.new_end = QDateTimeEdit(self.upcoming_box)
        for edit in (self.new_start, self.new_end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.new_has_end = QCheckBox(self.tr("Ends"), self.upcoming_box)
        self.new_has_end.setChecked(True)
        self.new_has_end.toggled.connect(self.new_end.setEnabled)
        self.new_status = NoWheelComboBox(self.upcoming_box)
        self.add_upcoming = QPushButton(self.tr("Add"), self.upcoming_box)
        self.add_upcoming.clicked.connect(self._on_add)
        form = QFormLayout()
        form.addRow(self.tr("Status:"), self.new_status)
        form.addRow(self.tr("Starts:"), self.new_start)
        end_row = QHBoxLayout()
        end_row.addWidget(self.new_has_end)
        end_row.addWidget(self.new_end, 1)
        form.addRow(end_row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.remove_upcoming)
        buttons.addStretch(1)
        buttons.addWidget(self.add_upcoming)
        up_layout = QVBoxLayout(self.upcoming_box)
        up_layout.addWidget(self.upcoming)
        up_layout.addLayout(form)
        up_layout.addLayout(buttons)

        # Another source of the status (Salesforce Omni-Channel), when the CRM has one.
        self.source = QWidget(self)
        self.source_label = QLabel(self.source)
        self.source_label.setObjectName("statusSource")
        self.source_label.setTextFormat(Qt.TextFormat.PlainText)
        self.source_label.setWordWrap(True)
        self.source_button = QPushButton(self.source)
        self.source_button.clicked.connect(self.source_refresh_requested)
        source_row = QHBoxLayout(self.source)
        source_row.setContentsMargins(0, 0, 0, 0)
        source_row.addWidget(self.source_label, 1)
        source_row.addWidget(self.source_button)
        self.source.hide()

        self.error = QLabel(self)
        self.error.setStyleSheet("color: #a4262c;")
        self.error.setWordWrap(True)
        self.error.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(now_row)
        layout.addWidget(self.source)
        layout.addLayout(duration_row)
        layout.addWidget(self.status_box)
        layout.addWidget(self.pool_calls)
        layout.addWidget(self.upcoming_box)
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.reset_new_schedule(datetime.now().astimezone())

    # -- what can be chosen -------------------------------------------------------------------

    def set_statuses(self, statuses: Sequence[Status], durations: Sequence[timedelta]) -> None:
        for radio in self._radios.values():
            self._group.removeButton(radio)
            radio.deleteLater()
        self._radios = {}
        self._statuses = list(statuses)
        for status in self._statuses:
            radio = QRadioButton(status_label(status.name), self.status_box)
            radio.setProperty("statusType", status.type.value)
            radio.setProperty("statusName", status.name)
            self._group.addButton(radio)
            self._status_layout.addWidget(radio)
            self._radios[status.name] = radio
        self.duration.clear()
        self.duration.addItem(self.tr("Until changed"), 0)
        for d in durations:
            minutes = int(d.total_seconds() // 60)
            text = self.tr("%n min", "", minutes) if minutes < 60 or minutes % 60 else \
                self.tr("%n h", "", minutes // 60)
            self.duration.addItem(text, minutes)
        self.new_status.clear()
        for status in self._statuses:
            self.new_status.addItem(status_label(status.name), status.name)

    # -- showing state ------------------------------------------------------------------------

    def show_source(self, text: str, button: str) -> None:
        """What another source (the CRM's presence) says, with a button to read it again."""
        self.source_label.setText(text)
        self.source_button.setText(button)
        self.source.setVisible(bool(text))

    def show_availability(self, change: Change, remaining: timedelta | None,
                          returns_to: str = "") -> None:
        """The state in force, as app.core.availability reports it."""
        self._updating = True
        try:
            radio = self._radios.get(change.status.name)
            if radio is not None:
                radio.setChecked(True)
            self.pool_calls.setChecked(change.pool_calls)
            name = status_label(change.status.name)
            shown = {Phase.IN_CALL: self.tr("In a Call"),
                     Phase.WRAP_UP: self.tr("Wrap Up")}.get(change.phase, name)
            badge = shown  # short: the badge sits beside Ready in a narrow column
            if change.phase is not Phase.IDLE:
                shown = self.tr("%1 (then %2)").replace("%1", shown).replace("%2", name)
            self.current.setText(shown)
            colour = _COLOURS.get(change.phase.value, _COLOURS[change.status.type.value])
            self.current.setStyleSheet(f"font-weight: bold; color: white; background: {colour};"
                                       " border-radius: 4px; padding: 2px 8px;")
            self.end_wrap_up.setVisible(change.phase is Phase.WRAP_UP)
            self.show_remaining(remaining, returns_to if change.phase is Phase.IDLE else "")
            self.error.hide()
        finally:
            self._updating = False
        self.shown_changed.emit(badge, colour)

    def show_remaining(self, remaining: timedelta | None, returns_to: str = "") -> None:
        if remaining is None:
            self.remaining.setText(self.tr("until changed"))
            return
        left = format_duration(remaining.total_seconds())
        if returns_to:
            self.remaining.setText(self.tr("%1 left, then %2").replace(
                "%1", left).replace("%2", status_label(returns_to)))
        else:
            self.remaining.setText(self.tr("%1 left").replace("%1", left))

    def show_upcoming(self, items: Sequence[ScheduledAvailability]) -> None:
        self.upcoming.clear()
        for item in items:
            start = item.start.astimezone()
            text = f"{start:%a %d.%m. %H:%M}"
            text += f"–{item.end.astimezone():%H:%M}" if item.end else " →"
            entry = QListWidgetItem(f"{text}  {status_label(item.status.name)}")
            entry.setData(Qt.ItemDataRole.UserRole, item.id)
            self.upcoming.addItem(entry)
        self.remove_upcoming.setEnabled(bool(items))

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def reset_new_schedule(self, now: datetime) -> None:
        start = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        # Through epoch seconds: the edit shows local time, whatever zone `now` is in.
        self.new_start.setDateTime(QDateTime.fromSecsSinceEpoch(int(start.timestamp())))
        self.new_end.setDateTime(
            QDateTime.fromSecsSinceEpoch(int((start + timedelta(hours=1)).timestamp())))

    # -- intents ------------------------------------------------------------------------------

    def _minutes(self) -> int:
        return int(self.duration.currentData() or 0)

    @Slot(object)
    def _on_status_clicked(self, button: QRadioButton) -> None:
        if not self._updating:
            self.status_requested.emit(str(button.property("statusName")), self._minutes())

    @Slot(int)
    def _on_duration_chosen(self, _index: int) -> None:
        checked = self._group.checkedButton()
        if checked is not None and not self._updating:
            self.status_requested.emit(str(checked.property("statusName")), self._minutes())

    @Slot()
    def _on_add(self) -> None:
        start = cast(datetime, self.new_start.dateTime().toPython()).astimezone()
        end = cast(datetime, self.new_end.dateTime().toPython()).astimezone() \
            if self.new_has_end.isChecked() else None
        self.schedule_add_requested.emit(start, str(self.new_status.currentData()), end)

    @Slot()
    def _on_remove(self) -> None:
        item = self.upcoming.currentItem()
        if item is not None:
            self.schedule_remove_requested.emit(int(item.data(Qt.ItemDataRole.UserRole)))


__all__ = ["StatusMenu", "status_label"]
