"""`guarded`: pjsua2 callbacks log their exceptions instead of unwinding into C++.

An exception inside a SWIG director callback can take the process down, so every
callback of our pjsua2 subclasses (calls, accounts, buddies) is wrapped in it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger("app.telephony.call")  # where these were always logged

F = TypeVar("F", bound=Callable[..., Any])


def guarded(fn: F) -> F:
    """Log and swallow exceptions in a pjsua2 callback instead of unwinding into C++."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception:
            log.exception("error in pjsua2 callback %s", fn.__qualname__)
            return None

    return wrapper  # type: ignore[return-value]


__all__ = ["guarded"]
