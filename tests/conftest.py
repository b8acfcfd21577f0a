"""Test set-up shared by every test: offscreen Qt, an in-memory keyring, the gui marker."""

from __future__ import annotations

import os
from collections.abc import Iterator

import keyring
import pytest

from tests.fakes.memory_keyring import MemoryKeyring

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if hasattr(os, "geteuid") and os.geteuid() == 0:
    # Chromium refuses to start its sandbox as root; only then do we turn it off.
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    if "--no-sandbox" not in flags:
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (flags + " --no-sandbox").strip()


def pytest_configure(config: pytest.Config) -> None:
    # The virtual sound card must exist before anything loads Qt Multimedia.
    from tests.sound_card import SoundCard

    if not hasattr(config, "workerinput"):
        config._sound_card = SoundCard.start()  # type: ignore[attr-defined]
    # Custom URL schemes must be registered before the QApplication exists.
    try:
        from app.ui.screenpop import register_schemes
    except ImportError:
        return
    register_schemes()


def pytest_unconfigure(config: pytest.Config) -> None:
    card = getattr(config, "_sound_card", None)
    if card is not None:
        card.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if {"qapp", "qtbot"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
