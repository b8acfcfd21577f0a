"""A keyring backend in a JSON file, for the real app and CLI run as subprocesses in tests.

Follows the `keyring.backend.KeyringBackend` interface (https://keyring.readthedocs.io/):
a subprocess selects it with `PYTHON_KEYRING_BACKEND=tests.fakes.file_keyring.FileKeyring`
and `SWITCHBOARD_TEST_KEYRING=<file>`, so `switchboard crm login` and the app share one
"system keyring" the test can read. Test use only: the file is plain text, outside the
profile, and stands in for the OS keyring the production SecretStore uses.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import keyring.backend
import keyring.errors


class FileKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    @property
    def _path(self) -> Path:
        return Path(os.environ["SWITCHBOARD_TEST_KEYRING"])

    def _load(self) -> dict[str, str]:
        try:
            return dict(json.loads(self._path.read_text()))
        except FileNotFoundError:
            return {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self._path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise keyring.errors.PasswordDeleteError(username)
        self._path.write_text(json.dumps(data))
