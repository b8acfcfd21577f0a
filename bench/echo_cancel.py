"""Benchmark echo cancellation: how much of the far end's voice comes back to them when the
agent talks on laptop speakers, with `audio.echo_cancellation = "off"` and `"system"`.

    python bench/echo_cancel.py [--seconds 8]

Each mode runs in a child process with its own PulseAudio virtual sound card
(tests/sound_card.py) loaded the way desktop PulseAudio is (module-filter-heuristics and
module-filter-apply, as Debian's default.pa loads them) plus an acoustic echo path: a
module-loopback from the speaker's monitor into the microphone, 60 ms late. A far pjsua2
agent plays a 1 kHz tone and records what it hears back; the echo return loss
enhancement (ERLE) is how much weaker that 1 kHz is with cancellation on. Prints a table;
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def child(mode: str, seconds: float) -> dict[str, float | str]:
    from tests.sound_card import SoundCard, level_at, read_wav, write_tone

    card = SoundCard.start()
    if card is None:
        return {"mode": mode, "error": "PulseAudio is not installed"}
    work = Path(tempfile.mkdtemp(prefix="sb-echo-"))
    agent = None
    try:
        def pactl(*args: str) -> str:
            return subprocess.run(["pactl", *args], capture_output=True, text=True,
                                  check=True).stdout.strip()

        pactl("load-module", "module-filter-heuristics")
        pactl("load-module", "module-filter-apply")
        pactl("load-module", "module-loopback", "source=headset.monitor", "sink=mic",
              "latency_msec=60", "source_dont_move=true", "sink_dont_move=true")
        if mode == "system":
            # What app/compose.py sets before Qt Multimedia first connects.
            os.environ["PULSE_PROP"] = "media.role=phone filter.want=echo-cancel"
        else:
            os.environ.pop("PULSE_PROP", None)
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication([])
        from app.audio.devices import AudioDevices
        from app.audio.path import AudioPath
        from app.config import SipSettings
        from app.core.calls import basic_policy
        from app.telephony import Engine

        tone = write_tone(work / "1k.wav", 1000, seconds + 10, rate=8000)
        far_wav = work / "far.wav"
        agent = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.agent", "--auto-answer",
             "--rtp-port", "31000", "--capture-file", str(tone), "--record-file",
             str(far_wav)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True)
        assert agent.stdout is not None and agent.stdin is not None
        ready = {}
        while ready.get("type") != "Ready":
            ready = json.loads(agent.stdout.readline())
        devices = AudioDevices()
        path = AudioPath()
        path.set_devices(devices.output("").device, devices.input("").device)
        engine = Engine(SipSettings(mode="direct", username="agent",
                                    listen_address="127.0.0.1", srtp="disabled",
                                    rtp_port=30000, rtp_port_range=8),
                        password=None, policy=basic_policy, on_event=lambda e: None,
                        audio=path)
        engine.start()
        path.open()
        handle = engine.dial(ready["local_uri"])
        end = time.monotonic() + seconds + 1
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.005)
        routed = "echo-cancel" in subprocess.run(["pactl", "list", "sink-inputs"],
                                                 capture_output=True, text=True).stdout
        engine.hangup(handle)
        time.sleep(0.3)
        path.shutdown()
        engine.stop()
        agent.stdin.write("quit\n")
        agent.stdin.flush()
        agent.wait(15)
        pcm, rate = read_wav(far_wav)
        tail = pcm[-int((seconds - 2) * rate) * 2:]  # after the canceller has adapted
        echo = level_at(tail, 1000, rate)
        sent = 0.4 * 32767 / math.sqrt(2)  # the RMS of the tone the far end sends
        return {"mode": mode, "echo_amplitude": round(echo, 1),
                "echo_db": round(20 * math.log10(max(echo, 1e-3) / sent), 1),
                "routed_through_echo_cancel": str(routed)}
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
        card.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--child", choices=("off", "system"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.seconds)))
        return
    rows = []
    for mode in ("off", "system"):
        out = subprocess.run([sys.executable, __file__, "--child", mode, "--seconds",
                              str(args.seconds)], capture_output=True, text=True,
                             cwd=ROOT, env={k: v for k, v in os.environ.items()
                                            if k != "PULSE_SERVER"})
        lines = [x for x in out.stdout.splitlines() if x.startswith("{")]
        rows.append(json.loads(lines[-1]) if lines else {"mode": mode,
                                                         "error": out.stderr[-300:]})
    print("| echo_cancellation | streams via module-echo-cancel | far end hears its own "
          "1 kHz back | relative to what it sent |")
    print("|---|---|---|---|")
    for row in rows:
        if "error" in row:
            print(f"| {row['mode']} | error: {row['error']} | | |")
            continue
        print(f"| {row['mode']} | {row['routed_through_echo_cancel']} | "
              f"{row['echo_amplitude']} | {row['echo_db']} dB |")
    if all("echo_db" in r for r in rows):
        erle = float(rows[0]["echo_db"]) - float(rows[1]["echo_db"])
        print(f"\nEcho return loss enhancement with the OS canceller: {erle:.1f} dB")


if __name__ == "__main__":
    main()
