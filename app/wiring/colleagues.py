"""Colleagues' SIP presence in the window (`contactcenter.colleagues`, backend sip_presence).

Each configured colleague is subscribed through the engine each time the account becomes
usable (registered, or direct mode), since a registrar that lost us also dropped our
subscriptions. Their NOTIFYs come back as PresenceChanged engine events, which the
SIP presence backend turns into ColleaguePresenceChanged; `show` puts those in the
ColleagueList, whose click is a dial of the colleague's URI. The list of colleagues is
parsed from `contactcenter.colleagues` by app.core.contactcenter.parse_colleagues.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from app.core.calls import RegistrationChanged, RegistrationState, can_ring
from app.core.contactcenter import ColleaguePresenceChanged
from app.ui.colleagues import ColleagueList

log = logging.getLogger(__name__)


class Subscriber(Protocol):
    def subscribe_presence(self, uri: str) -> None: ...


class ColleaguesWiring:
    """Subscribes the listed colleagues and shows their presence in `widget`."""

    def __init__(self, colleagues: Sequence[tuple[str, str]], engine: Subscriber,
                 widget: ColleagueList, dial: Callable[[str], None]) -> None:
        self.colleagues = list(colleagues)  # (name, sip URI), parsed from the settings
        self._engine = engine
        self._usable = False
        self.widget = widget
        self.widget.set_colleagues(self.colleagues)
        self.widget.dial_requested.connect(dial)

    def on_registration(self, ev: RegistrationChanged) -> None:
        if ev.state is RegistrationState.REGISTERING:
            return  # a refresh: the subscriptions still stand
        usable = can_ring(ev.state)
        if usable and not self._usable:
            for _name, uri in self.colleagues:
                try:
                    self._engine.subscribe_presence(uri)
                except Exception as exc:  # the engine is stopping: nothing to watch then
                    log.warning("presence of %s not subscribed: %s", uri, exc)
        elif not usable and self._usable:
            for _name, uri in self.colleagues:  # what we knew may be stale now
                self.widget.show_presence(uri, None)
        self._usable = usable

    def show(self, event: ColleaguePresenceChanged) -> None:
        self.widget.show_presence(event.uri, event.available, event.note)


__all__ = ["ColleaguesWiring"]
