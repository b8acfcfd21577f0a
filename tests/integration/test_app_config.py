"""A broken config.toml never stops the phone: the bad key is named, defaults are used.

The real app runs as a subprocess (offscreen) and SIPp calls it, so "keeps working" means
a real call still rings and is answered.
"""

from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.app_process import (
    AppProcess,
    app_env,
    make_profile,
    needs_sipp,
    run_cmd,
)
from tests.app_process import (
    processes as processes,  # the fixture, re-exported here
)
from tests.integration.conftest import free_port, scenario
from tests.integration.conftest import sipp as sipp  # the fixture, re-exported here

WAIT = 60.0


def wait_msg(app: AppProcess, fragment: str) -> dict[str, Any]:
    """The first log line whose text contains `fragment` (plain messages, not events)."""
    deadline = time.monotonic() + WAIT
    checked = 0
    while time.monotonic() < deadline and app.proc.poll() is None:
        for line in app.log.seen[checked:]:
            if fragment in line.get("msg", ""):
                return line
        checked = len(app.log.seen)
        with contextlib.suppress(queue.Empty):
            app.log.seen.append(app.log.queue.get(timeout=0.5))
    raise AssertionError(f"no log line with {fragment!r}; exit {app.proc.poll()}")


@needs_sipp
def test_bad_values_are_named_and_the_phone_still_takes_calls(
        tmp_path: Path, processes: Callable[..., AppProcess],
        sipp: Callable[..., Any]) -> None:
    port = free_port()
    profile = make_profile(tmp_path / "profile", port=port)
    text = profile.config_path.read_text(encoding="utf-8")
    text = text.replace('transport = "udp"', 'transport = "carrier-pigeon"')
    text = text.replace("auto_answer = false", "auto_answer = true")
    text = text.replace('default_region = "FI"', "default_region = 358")
    profile.config_path.write_text(text, encoding="utf-8")

    app = processes(run_cmd(profile), app_env())
    app.event("registration", state="disabled")  # direct mode still applied
    problems = [line["msg"] for line in app.log.seen if "config.toml:" in line.get("msg", "")]
    assert any("sip.transport" in p and "carrier-pigeon" in p for p in problems), problems
    assert any("phone.default_region" in p for p in problems), problems

    peer = sipp(scenario(tmp_path, "uac_remote_bye"), f"127.0.0.1:{port}")
    ringing = app.event("ringing")
    assert ringing["remote"] == "+358401234567"  # default region FI used for parsing
    assert app.event("answered", handle=ringing["handle"])["code"] == 200
    assert peer.wait() == 0, peer.output()
    assert app.event("ended", handle=ringing["handle"])["side"] == "remote"


def test_unparseable_file_starts_with_defaults_and_says_why(
        tmp_path: Path, processes: Callable[..., AppProcess]) -> None:
    profile = make_profile(tmp_path / "profile", port=free_port())
    profile.config_path.write_text("[sip\nmode = = 'direct'\n\x00", encoding="utf-8")
    app = processes(run_cmd(profile), app_env())
    # Defaults mean no phone account: the app stays up, starts no engine and offers the
    # first-run assistant instead of crashing.
    wait_msg(app, "the phone account is not set up")
    assert not any("engine start" in line.get("msg", "") for line in app.log.seen)
    problems = [line["msg"] for line in app.log.seen if "config.toml:" in line.get("msg", "")]
    assert any("not valid TOML" in p and str(profile.config_path) in p for p in problems)
    assert app.proc.poll() is None  # still running
    # The file itself is left alone for the agent to fix.
    assert profile.config_path.read_text(encoding="utf-8").startswith("[sip\n")
