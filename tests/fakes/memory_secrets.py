"""A secret store in a dict, passed to the app where production passes the keyring's.

Implements app.secrets.SecretStore (get / set / delete by key); nothing leaves memory.
"""

from __future__ import annotations


class MemorySecretStore:
    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values: dict[str, str] = dict(values or {})

    def get(self, key: str) -> str | None:
        return self.values.get(key) if key else None

    def set(self, key: str, value: str) -> None:
        self.values[key] = value

    def delete(self, key: str) -> None:
        self.values.pop(key, None)
