"""The garbage collector keeps off the long-lived heap while a call has sound (issue 8)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from app.audio.collector import CallCollector
from app.audio.path import AudioPath


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_garbage_from_before_the_call_is_collected_when_it_starts_and_the_heap_frozen() -> None:
    before = weakref.ref(Node())
    collector = CallCollector()

    collector.call_started()

    assert before() is None
    assert gc.get_freeze_count() > 0


def test_what_the_call_drops_of_the_frozen_heap_is_freed_once_the_call_has_ended() -> None:
    kept = Node()
    ref = weakref.ref(kept)
    collector = CallCollector()
    collector.call_started()
    del kept
    gc.collect()
    assert ref() is not None  # frozen: the collections during the call do not walk it
    made_during = weakref.ref(Node())
    gc.collect()
    assert made_during() is None  # what the call itself makes is collected as usual

    collector.call_ended()
    gc.collect()

    assert ref() is None
    assert gc.get_freeze_count() == 0


def test_the_audio_path_freezes_for_the_call_and_unfreezes_on_close_and_shutdown(qapp) -> None:
    collector = CallCollector()
    path = AudioPath(collector=collector)
    try:
        path.open()
        assert collector.frozen and gc.get_freeze_count() > 0
        frozen = gc.get_freeze_count()
        made = [Node() for _ in range(100)]
        path.open()  # media updates of the same call do not collect and freeze again
        assert gc.get_freeze_count() == frozen and made
        path.close()
        assert not collector.frozen and gc.get_freeze_count() == 0
        path.open()
        assert gc.get_freeze_count() > 0
    finally:
        path.shutdown()
    assert gc.get_freeze_count() == 0
