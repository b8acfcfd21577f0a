"""Everything that touches pjsua2; nothing outside this package imports it.

`Engine` and `EngineError` are loaded lazily so that the pure helpers here
(`mapping`, `sipmsg`) can be imported without loading the SIP stack.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Engine", "EngineError"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from app.telephony import engine

        return getattr(engine, name)
    raise AttributeError(name)
