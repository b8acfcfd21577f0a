"""The tabs under the screen-pop: the queues, the colleagues and the callback requests.

With one tab there is no tab bar. The colleagues tab comes first when there are no
queues to see (plain SIP); the callback tab comes with the first request (Asterisk never
has any) and counts them.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Slot
from PySide6.QtWidgets import QTabWidget, QWidget


def _tr(text: str) -> str:
    # The context these words had when the availability wiring laid the tabs out.
    return QCoreApplication.translate("AvailabilityWiring", text)


class QueueTabs(QTabWidget):
    def __init__(self, queues: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queues_and_callbacks")
        self.setTabBarAutoHide(True)  # one tab (no callbacks yet): no tab bar
        self.setDocumentMode(True)
        self.addTab(queues, _tr("Queues"))
        self._callbacks: QWidget | None = None

    def add_colleagues(self, colleagues: QWidget) -> None:
        """Plain SIP has no queues: the colleagues are what there is to see."""
        self.addTab(colleagues, _tr("Colleagues"))
        self.setCurrentWidget(colleagues)

    def set_callbacks(self, callbacks: QWidget) -> None:
        """The callback list, shown as a tab from its first request on."""
        self._callbacks = callbacks

    @Slot(int)
    def show_callback_count(self, count: int) -> None:
        widget = self._callbacks
        if widget is None:
            return
        index = self.indexOf(widget)
        if index < 0:
            index = self.addTab(widget, "")
        self.setTabText(index, _tr("Callback requests (%s)") % count)


__all__ = ["QueueTabs"]
