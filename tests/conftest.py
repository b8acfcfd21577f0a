"""Test set-up shared by every test: offscreen Qt, the keyring guard, the gui marker."""

from __future__ import annotations

import os
from collections.abc import Iterator

import keyring
import pytest

from tests.fakes.memory_keyring import GuardKeyring

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if hasattr(os, "geteuid") and os.geteuid() == 0:
    # Chromium refuses to start its sandbox as root; only then do we turn it off.
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    if "--no-sandbox" not in flags:
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (flags + " --no-sandbox").strip()


# Installed once, never swapped: tests pass the app a secret store of their own
# (tests/fakes/memory_secrets.py), and one that reaches the process keyring fails.
KEYRING_GUARD = GuardKeyring()


def pytest_configure(config: pytest.Config) -> None:
    keyring.set_keyring(KEYRING_GUARD)  # the machine's real keyring is never reached
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
def keyring_guard() -> Iterator[GuardKeyring]:
    """Fails the test that touched the process keyring (even when the app caught it)."""
    KEYRING_GUARD.touched.clear()
    yield KEYRING_GUARD
    touched, KEYRING_GUARD.touched[:] = list(KEYRING_GUARD.touched), []
    assert not touched, f"the process keyring was used: {touched}"
