"""Rewrite the settings table in README.md from app/config.py."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from scripts.config_table import main as table

README = Path(__file__).resolve().parents[1] / "README.md"


def update() -> None:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        table()
    text = README.read_text(encoding="utf-8")
    new = re.sub(r"(<!-- config-table:start -->\n).*?(<!-- config-table:end -->)",
                 lambda m: m.group(1) + buf.getvalue() + m.group(2), text, flags=re.S)
    README.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    update()
