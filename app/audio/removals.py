"""PulseAudio's own word that a sound device went away, which Qt Multimedia 6.11 drops.

Qt reports a PulseAudio sink or source that appears, but never one that is removed: the
device stays in `QMediaDevices.audioOutputs()`, no change signal comes, and PulseAudio
quietly moves our stream to its default device. So an unplugged headset would go
unannounced. `RemovalWatch` subscribes to PulseAudio's device events itself (libpulse,
through ctypes: it is loaded by Qt Multimedia anyway, and PipeWire's pulse server speaks
the same protocol) and emits `removed` on the thread it lives in for every sink or source
that goes. It only says *that* something went; which device it was is for the caller to
check (see app.audio.devices).

Where libpulse is missing (Windows, macOS) or no PulseAudio server answers, it does
nothing: there Qt's own device signals report removals.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import logging
import sys
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

log = logging.getLogger(__name__)

_CONTEXT_READY, _CONTEXT_FAILED, _CONTEXT_TERMINATED = 4, 5, 6
_NOAUTOSPAWN = 1  # never start a sound server just to watch it
_MASK_SINK, _MASK_SOURCE = 0x0001, 0x0002
_FACILITY_MASK, _TYPE_MASK = 0x000F, 0x0030
_FACILITY_SINK, _FACILITY_SOURCE, _EVENT_REMOVE = 0x0000, 0x0001, 0x0020

_StateCallback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
_EventCallback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint32,
                                  ctypes.c_void_p)


def _libpulse() -> Any | None:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("pulse") or "libpulse.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    vp = ctypes.c_void_p
    for fn, restype, argtypes in (
            ("pa_threaded_mainloop_new", vp, []),
            ("pa_threaded_mainloop_get_api", vp, [vp]),
            ("pa_threaded_mainloop_start", ctypes.c_int, [vp]),
            ("pa_threaded_mainloop_stop", None, [vp]),
            ("pa_threaded_mainloop_free", None, [vp]),
            ("pa_threaded_mainloop_lock", None, [vp]),
            ("pa_threaded_mainloop_unlock", None, [vp]),
            ("pa_context_new", vp, [vp, ctypes.c_char_p]),
            ("pa_context_connect", ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_int, vp]),
            ("pa_context_disconnect", None, [vp]),
            ("pa_context_unref", None, [vp]),
            ("pa_context_get_state", ctypes.c_int, [vp]),
            ("pa_context_set_state_callback", None, [vp, _StateCallback, vp]),
            ("pa_context_set_subscribe_callback", None, [vp, _EventCallback, vp]),
            ("pa_context_subscribe", vp, [vp, ctypes.c_int, vp, vp]),
            ("pa_operation_unref", None, [vp])):
        func = getattr(lib, fn)
        func.restype, func.argtypes = restype, argtypes
    return lib


class RemovalWatch(QObject):
    """Emits `removed` (on this object's thread) when PulseAudio removes a device."""

    removed = Signal(str)  # "output" or "input"
    _event = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Queued: the event arrives on libpulse's thread.
        self._event.connect(self.removed, Qt.ConnectionType.QueuedConnection)
        self._lib: Any = _libpulse()  # None where there is no libpulse
        self._loop: int | None = None
        self._context: int | None = None
        # ctypes callbacks must outlive the C side's use of them.
        self._on_state = _StateCallback(self._state_changed)
        self._on_event = _EventCallback(self._device_event)
        if self._lib is not None:
            self._start()

    @property
    def watching(self) -> bool:
        return self._context is not None

    def _start(self) -> None:
        lib = self._lib
        loop = lib.pa_threaded_mainloop_new()
        if not loop:
            return
        context = lib.pa_context_new(lib.pa_threaded_mainloop_get_api(loop),
                                     b"Switchboard device watch")
        if not context:
            lib.pa_threaded_mainloop_free(loop)
            return
        lib.pa_context_set_state_callback(context, self._on_state, None)
        if lib.pa_context_connect(context, None, _NOAUTOSPAWN, None) < 0 or \
                lib.pa_threaded_mainloop_start(loop) < 0:
            lib.pa_context_unref(context)
            lib.pa_threaded_mainloop_free(loop)
            log.info("no PulseAudio server to watch for removed devices")
            return
        self._loop, self._context = loop, context
        # libpulse's thread must not call into an interpreter that is finalizing.
        atexit.register(self.close)

    def _state_changed(self, context: int, _userdata: int) -> None:
        # libpulse's thread, its loop locked: subscribe once connected.
        state = self._lib.pa_context_get_state(context)
        if state == _CONTEXT_READY:
            self._lib.pa_context_set_subscribe_callback(context, self._on_event, None)
            op = self._lib.pa_context_subscribe(context, _MASK_SINK | _MASK_SOURCE, None,
                                                None)
            if op:
                self._lib.pa_operation_unref(op)
        elif state in (_CONTEXT_FAILED, _CONTEXT_TERMINATED):
            log.debug("PulseAudio device watch ended (state %d)", state)

    def _device_event(self, _context: int, event: int, _index: int, _userdata: int) -> None:
        if event & _TYPE_MASK != _EVENT_REMOVE:
            return
        facility = event & _FACILITY_MASK
        if facility in (_FACILITY_SINK, _FACILITY_SOURCE):
            # RuntimeError: the Qt side is gone while shutting down.
            with contextlib.suppress(RuntimeError):
                self._event.emit("output" if facility == _FACILITY_SINK else "input")

    def close(self) -> None:
        """Disconnect from PulseAudio and end libpulse's thread (idempotent)."""
        lib, loop, context = self._lib, self._loop, self._context
        self._loop = self._context = None
        if lib is None or loop is None or context is None:
            return
        atexit.unregister(self.close)
        lib.pa_threaded_mainloop_lock(loop)
        lib.pa_context_disconnect(context)
        lib.pa_context_unref(context)
        lib.pa_threaded_mainloop_unlock(loop)
        lib.pa_threaded_mainloop_stop(loop)
        lib.pa_threaded_mainloop_free(loop)


__all__ = ["RemovalWatch"]
