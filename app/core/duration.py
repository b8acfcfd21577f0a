"""How a length of time is written everywhere in the app: `M:SS`, or `H:MM:SS` from an hour.

One formatter for the call timer, the call history, queue waits, the time left in a
status and the call details written onto a CRM case (they used to disagree: `00:05`
against `0:05`, and `75:00` against `1:15:00`).
"""

from __future__ import annotations


def format_duration(seconds: float) -> str:
    """`5` → `0:05`, `65` → `1:05`, `3725` → `1:02:05`; parts of a second and negatives drop."""
    minutes, secs = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
