"""Where files live: platformdirs locations, or everything under one `--profile DIR`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Switchboard"


@dataclass(frozen=True)
class Profile:
    config_dir: Path
    data_dir: Path
    log_dir: Path
    cache_dir: Path

    @classmethod
    def default(cls) -> Profile:
        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
            cache_dir=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        )

    @classmethod
    def at(cls, root: Path) -> Profile:
        """Everything (config, databases, logs, web storage) under one directory."""
        root = root.expanduser().resolve()
        return cls(config_dir=root, data_dir=root / "data", log_dir=root / "logs",
                   cache_dir=root / "cache")

    @property
    def root(self) -> Path:
        return self.config_dir

    @property
    def config_path(self) -> Path:
        return self.config_dir / "config.toml"

    def db_path(self, name: str) -> Path:
        """`history`, `crm`, `outbox`, … → data_dir/NAME.sqlite3."""
        return self.data_dir / f"{name}.sqlite3"

    def ensure(self) -> Profile:
        for d in (self.config_dir, self.data_dir, self.log_dir, self.cache_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self
