"""Quitting never runs inside another handler: tests/ui/quit_cases.py, in a process of its own.

Those tests quit the QApplication for real (as `run_app` does). Quitting emits
aboutToQuit, and QtWebEngine tears down its process-wide state on it, so in the test
process every other test's web view would be left on a destroyed engine: in a whole-suite
run the second quit segfaulted inside QtWebEngine's aboutToQuit handler. A real app
quits once and then exits, as the child process here does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CASES = Path(__file__).with_name("quit_cases.py")
ROOT = Path(__file__).resolve().parents[2]


def test_quit_cases_pass_in_a_process_of_their_own() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(CASES)],
        cwd=ROOT, env={**os.environ, "PYTHONFAULTHANDLER": "1"}, capture_output=True,
        text=True, timeout=300, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "3 passed" in output, output
