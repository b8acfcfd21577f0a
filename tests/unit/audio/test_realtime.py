"""The audio threads' scheduling (issue 8): what raise_priority says is what the kernel
gives the thread, and a process that may not raise it is left as it was."""

from __future__ import annotations

import os
import resource
import sys
import threading

import pytest

from app.audio.realtime import NICE, NOT_PERMITTED, RT_PRIORITY, probe, raise_priority

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux scheduling")


def raised_thread() -> tuple[str, int, int, int]:
    """raise_priority on a thread of its own: (what it said, policy, rt priority, nice)."""
    seen: list[tuple[str, int, int, int]] = []

    def run() -> None:
        tid = threading.get_native_id()
        got = raise_priority(tid)
        seen.append((got, os.sched_getscheduler(tid), os.sched_getparam(tid).sched_priority,
                     os.getpriority(os.PRIO_PROCESS, tid)))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return seen[0]


@linux
def test_what_it_says_is_what_the_thread_got() -> None:
    got, policy, priority, nice = raised_thread()

    if got.startswith("real-time"):
        assert (policy, priority) == (os.SCHED_RR, RT_PRIORITY)
    elif got.startswith("raised"):
        assert (policy, nice) == (os.SCHED_OTHER, NICE)
    else:
        assert got == NOT_PERMITTED and policy == os.SCHED_OTHER
    # Only that thread: the rest of the process keeps its scheduling.
    assert os.sched_getscheduler(0) == os.SCHED_OTHER
    assert probe() == got


@linux
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become an unprivileged user")
def test_as_root_it_is_real_time_and_a_user_who_may_not_stays_normal() -> None:
    assert raised_thread()[:3] == ("real-time (SCHED_RR 4)", os.SCHED_RR, RT_PRIORITY)
    # The same code as "nobody", who has no rtprio limit and may not lower nice (in a
    # fork: the interpreter's own files may not be readable for nobody).
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        try:
            resource.setrlimit(resource.RLIMIT_RTPRIO, (0, 0))
            resource.setrlimit(resource.RLIMIT_NICE, (0, 0))
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            os.write(write, repr(raised_thread()).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        out = pipe.read()
    os.waitpid(child, 0)
    assert out == repr((NOT_PERMITTED, os.SCHED_OTHER, 0, 0))
