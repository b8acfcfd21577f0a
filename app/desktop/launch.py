"""What the `switchboard` command does with links and other instances (wired in app/cli.py).

- `rewrite_link_argv(argv)`: desktops start `switchboard tel:+358...` (Exec=... %u); this
  turns it into `switchboard dial tel:+358...` before argparse sees it.
- `dial_command(link, profile_dir, region, start_app)`: `switchboard dial LINK` — parse
  the untrusted link, hand it to the running instance, or start one that dials it.
- `claim_instance(profile_dir, args)`: a plain start; None means another instance took
  over (exit 0), otherwise the listening `SingleInstance` the app keeps.
- `forwarded_request(args, region)`: what the running instance should do with arguments
  another process sent (they are untrusted and parsed again).
- `register_handler_command()`: `switchboard register-handler`.
- `LinkAwareApplication`: the QApplication subclass to create; macOS delivers clicked
  links as `QFileOpenEvent`s to it and it emits `link_opened(str)`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from PySide6.QtCore import QCoreApplication, QEvent, Signal
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

from app.core.links import DialTarget, LinkRefused, looks_like_link, parse_link
from app.desktop.register_handler import register_handler
from app.desktop.single_instance import AnotherInstanceRunning, SingleInstance

log = logging.getLogger(__name__)

EXIT_REFUSED = 2


def rewrite_link_argv(argv: Sequence[str]) -> list[str]:
    """`[..., "tel:+358..."]` → `[..., "dial", "tel:+358..."]` unless `dial` is there."""
    args = list(argv)
    if "dial" in args:
        return args
    for i, arg in enumerate(args):
        if looks_like_link(arg) and (i == 0 or args[i - 1] not in (
                "--profile", "--log-format", "--log-level")):
            return [*args[:i], "dial", *args[i:]]
    return args


@dataclass(frozen=True)
class ShowWindow:
    """A plain second start: bring the window to the front."""


@dataclass(frozen=True)
class Dial:
    target: DialTarget


@dataclass(frozen=True)
class Refused:
    message: str


Request = ShowWindow | Dial | Refused


def forwarded_request(args: Sequence[str], region: str = "FI") -> Request:
    """Decide what forwarded arguments ask for. `["dial", LINK]` → Dial (LINK parsed
    again here: the sender is just another process); `[]` → ShowWindow."""
    if not args:
        return ShowWindow()
    if len(args) == 2 and args[0] == "dial":
        try:
            return Dial(parse_link(args[1], region))
        except LinkRefused as exc:
            return Refused(exc.text(QCoreApplication.translate))
    return Refused(f"another start asked for something unknown ({len(args)} arguments)")


def dial_command(link: str, profile_dir: Path | str, region: str,
                 start_app: Callable[[DialTarget], int], *,
                 stderr: TextIO | None = None) -> int:
    """`switchboard dial LINK`: 2 if refused, 0 if the running instance took it, else
    whatever `start_app(target)` returns (it starts the app, which then dials)."""
    err = stderr or sys.stderr
    try:
        target = parse_link(link, region)
    except LinkRefused as exc:
        print(f"switchboard: {exc}", file=err)
        return EXIT_REFUSED
    if SingleInstance(profile_dir).try_forward(["dial", target.as_link()]):
        log.info("handed %s to the running instance", target.kind)
        return 0
    return start_app(target)


def claim_instance(profile_dir: Path | str, args: Sequence[str] = ()) -> SingleInstance | None:
    """For `switchboard` / `switchboard run`: None if a running instance took `args`
    (the caller exits 0), else a listening SingleInstance (a QCoreApplication must
    exist by the time events are processed; the caller connects `message_received`)."""
    instance = SingleInstance(profile_dir)
    for _ in range(3):
        if instance.try_forward(list(args)):
            return None
        try:
            instance.listen()
            return instance
        except AnotherInstanceRunning:
            continue  # it started between our two calls; forward to it
    raise RuntimeError("Switchboard is already running for this profile but does not "
                       "answer; close it (or end the process) and try again")


def register_handler_command(command: Sequence[str] | None = None, *,
                             stdout: TextIO | None = None) -> int:
    """`switchboard register-handler`: make this Switchboard open tel:/sip:/callto: links."""
    out = stdout or sys.stdout
    code, lines = register_handler(command)
    for line in lines:
        print(line, file=out if code == 0 else sys.stderr)
    return code


class LinkAwareApplication(QApplication):
    """The QApplication to create: macOS delivers a clicked tel: link as a QFileOpenEvent
    sent to the application object, which `link_opened` turns into a (still untrusted)
    link.

    Overriding `event()` here sees only events for the application object. An
    application-wide `installEventFilter` written in Python sees every event of every
    object instead, and with QtWebEngine in the process PySide6 6.12 crashed (SIGSEGV in
    the event loop within a second of start, Linux/xcb) even with a filter that only
    returned False.
    """

    link_opened = Signal(str)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            url = event.url().toString()
            if url and looks_like_link(url):
                self.link_opened.emit(url)
                return True
        return super().event(event)
