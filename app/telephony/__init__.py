"""Everything that touches pjsua2; nothing outside this package imports it.

`Engine` and `EngineError` are loaded lazily so that the pure helpers here
(`mapping`, `sipmsg`) can be imported without loading the SIP stack.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Engine", "EngineError"]


def stack_version() -> str:
    """The PJSIP version of the installed wheel; ImportError when pjsua2 does not load."""
    import pjsua2

    return str(pjsua2.Endpoint().libVersion().full)


def __getattr__(name: str) -> Any:
    if name in ("Engine", "EngineError"):
        from app.telephony import engine

        return getattr(engine, name)
    raise AttributeError(name)
