"""UI tests: guard against the PySide6 6.12.0 emit() refcount bug (see app/ui/bridge.py)."""

from __future__ import annotations

from app.ui.bridge import guard_bool_refcount

guard_bool_refcount()
