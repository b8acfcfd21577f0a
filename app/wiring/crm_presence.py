"""A CRM's own presence of the agent (Salesforce Omni-Channel), mirrored into availability.

Backend-neutral: the composition root passes `read`, a blocking call (run on the CRM's
task lane) that returns a `CrmPresence`: the words for the agent ("Omni-Channel:
Available for Voice") and, when the CRM's status is in the admin's mapping table, the
availability change to make. The change goes through `apply` (AvailabilityWiring's
`apply_remote`, so the history says the backend made it, as for the phone system's).

Read when the app starts, after the agent signs in from the app, and when the agent asks
(the button in "Select your status"); never polled: a CRM's API quota is shared by every
agent of the org. The CRM cannot be told our availability (Omni-Channel has no API for
it), so nothing flows the other way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QObject, Slot

from app.core.contactcenter import RemoteAvailabilityChanged
from app.core.crm import CrmError, CrmSignInRequired
from app.logs import call_event
from app.threads import Lane, TaskRunner
from app.ui.status_menu import StatusMenu

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrmPresence:
    """What the CRM says the agent's presence is."""

    text: str  # for the agent, e.g. "Omni-Channel: Available for Voice"
    change: RemoteAvailabilityChanged | None  # None: not mapped (or offline): left alone
    name: str = ""  # the CRM's own name of the status (for the log)


def _tr(text: str) -> str:
    return QCoreApplication.translate("CrmWiring", text)


class CrmPresenceWiring(QObject):
    """Reads the CRM's presence on the lane and applies what it maps to."""

    def __init__(self, menu: StatusMenu, tasks: TaskRunner, lane: Lane, *,
                 read: Callable[[], CrmPresence],
                 apply: Callable[[RemoteAvailabilityChanged], None], button: str,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._menu = menu
        self._tasks = tasks
        self._lane = lane
        self._read = read
        self._apply = apply
        self._button = button
        self._busy = False
        menu.source_refresh_requested.connect(self.refresh)

    @Slot()
    def refresh(self) -> None:
        """Read the CRM's presence now (once at a time)."""
        if self._busy:
            return
        self._busy = True
        self._tasks.run(self._lane, self._read, succeeded=self._done, failed=self._failed)

    def _done(self, presence: CrmPresence) -> None:
        self._busy = False
        self._menu.show_source(presence.text, self._button)
        change = presence.change
        call_event("crm_presence", name=presence.name,
                   status=change.name if change is not None else None)
        if change is not None:
            self._apply(change)

    def _failed(self, error: BaseException) -> None:
        self._busy = False
        if isinstance(error, CrmSignInRequired):
            text = _tr("Omni-Channel status: sign in to read it.")
        elif isinstance(error, CrmError):
            text = _tr("Omni-Channel status could not be read: %s") % error
        else:
            log.error("reading the CRM presence failed: %r", error)
            text = _tr("Omni-Channel status could not be read: %s") % error
        self._menu.show_source(text, self._button)


__all__ = ["CrmPresence", "CrmPresenceWiring"]
