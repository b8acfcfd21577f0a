"""The screen-pop pane asks Chromium once more for a load it dropped, and only for one it
dropped: a load that is merely late must not be loaded twice (CI lost a click on the first
copy of a dialog when the second copy replaced it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWebEngineCore import QWebEngineLoadingInfo

from app.crm.local.store import LocalStore
from app.ui.notes import DROPPED_LOAD_MS, ScreenPopPane
from app.ui.screenpop import ScreenPopView
from tests.ui.test_screenpop import LOAD_TIMEOUT, Harness
from tests.ui.test_screenpop import store as store  # the fixture, re-exported here

pytestmark = pytest.mark.qt_log_ignore(
    r"QRhiGles2", r"Failed to create RHI", r"createPlatformVulkanInstance", r"QVulkanInstance",
    r"GBM is not supported", r"GPUInfo not initialized")


class Finished:
    """What Chromium reports when a page has loaded (QWebEngineLoadingInfo has no public
    constructor): here, the "Looking up…" page finishing after ours was asked for."""

    def __init__(self, url: QUrl) -> None:
        self._url = url

    def status(self) -> QWebEngineLoadingInfo.LoadStatus:
        return QWebEngineLoadingInfo.LoadStatus.LoadSucceededStatus

    def url(self) -> QUrl:
        return self._url


@pytest.fixture
def pane(qtbot: Any, store: LocalStore) -> Iterator[ScreenPopPane]:
    harness = Harness(qtbot, store)
    pane = ScreenPopPane(harness.view)
    harness.load("idle")
    yield pane
    harness.view.close_down()
    qtbot.wait(1)


def count_loads(pane: ScreenPopPane, monkeypatch: pytest.MonkeyPatch, *, drop_first: bool
                ) -> list[str]:
    """The paths the pane asks the view to load; `drop_first`: the first is lost."""
    asked: list[str] = []
    real_load = pane.view.load

    def load(url: QUrl | str) -> None:
        asked.append(QUrl(url).path())
        if not (drop_first and len(asked) == 1):
            real_load(url)
    monkeypatch.setattr(pane.view, "load", load)
    return asked


def ask_for_the_dialog_as_looking_up_finishes(pane: ScreenPopPane) -> list[str]:
    """Ask for the dialog, then have the "Looking up…" page report it finished; returns
    the paths the pane says were loaded, as they come."""
    loaded: list[str] = []
    pane.loaded.connect(loaded.append)
    pane.show_page("dialog", {"kind": "contact", "number": "+358401234567"})
    pane._loading_changed(Finished(ScreenPopView.crm_url("looking-up")))  # type: ignore[arg-type]
    return loaded


def test_a_late_load_is_not_asked_for_twice(qtbot: Any, pane: ScreenPopPane,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    asked = count_loads(pane, monkeypatch, drop_first=False)
    loaded = ask_for_the_dialog_as_looking_up_finishes(pane)
    qtbot.waitUntil(lambda: loaded == ["dialog"], timeout=LOAD_TIMEOUT)
    qtbot.wait(DROPPED_LOAD_MS * 2)
    assert (asked, loaded) == (["/dialog"], ["dialog"])


def test_a_dropped_load_is_asked_for_again_and_then_shown(qtbot: Any, pane: ScreenPopPane,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    asked = count_loads(pane, monkeypatch, drop_first=True)
    loaded = ask_for_the_dialog_as_looking_up_finishes(pane)
    qtbot.waitUntil(lambda: loaded == ["dialog"], timeout=LOAD_TIMEOUT)
    assert asked == ["/dialog", "/dialog"]
    assert pane.view.url().path() == "/dialog"


def test_closing_down_while_a_load_is_awaited_asks_for_nothing_more(
        qtbot: Any, store: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    harness = Harness(qtbot, store)
    pane = ScreenPopPane(harness.view)
    harness.load("idle")
    asked = count_loads(pane, monkeypatch, drop_first=True)
    ask_for_the_dialog_as_looking_up_finishes(pane)
    harness.view.close_down()  # the app quits within the wait: the page is gone
    qtbot.wait(DROPPED_LOAD_MS * 2)  # an exception in the timer's slot fails the test
    assert asked == ["/dialog"]
