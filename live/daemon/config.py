"""The daemon's settings: a TOML file named by FLOWTAPE_DAEMON_CONFIG, then the environment.

Every field can be set in the file (`socket_path = "/run/flowtape.sock"`, a `[retention]`
table of candles kept per interval) or by a variable `FLOWTAPE_DAEMON_<FIELD>`, which wins.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from compute.candles import BufferConfig
from compute.candles.config import DEFAULT_RETENTION
from schemas.errors import ConfigError
from schemas.ipc import DEFAULT_MAX_FRAME_BYTES

CONFIG_VARIABLE = "FLOWTAPE_DAEMON_CONFIG"


class DaemonSettings(BaseSettings):
    """Where the daemon listens, what it keeps, and how it treats its clients."""

    model_config = SettingsConfigDict(
        env_prefix="FLOWTAPE_DAEMON_", extra="forbid", case_sensitive=False
    )

    # Empty: `daemon.sock` in the data folder (FLOWTAPE_DATA_DIR).
    socket_path: Path | None = None
    socket_mode: int = 0o600
    max_frame_bytes: int = Field(default=DEFAULT_MAX_FRAME_BYTES, ge=64)
    # A client whose unread replies and updates exceed this is dropped as a slow consumer.
    send_buffer_bytes: int = Field(default=4 * 1024 * 1024, ge=4096)
    retention: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_RETENTION))
    trades_kept: int = Field(default=1_000, ge=1)
    max_book_depth: int = Field(default=50, ge=1)
    # Seed candles and trades from ClickHouse and read the log after what it holds; off:
    # read the whole log.
    seed: bool = True
    fetch_messages: int = Field(default=256, ge=1)
    # Serve /health on 127.0.0.1 at this port; empty: not served.
    health_port: int | None = None

    @field_validator("socket_mode", mode="before")
    @classmethod
    def _octal_text(cls, value: object) -> object:
        return int(value, 8) if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        file = os.environ.get(CONFIG_VARIABLE, "")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if file:
            if not Path(file).is_file():
                raise ConfigError(f"{CONFIG_VARIABLE} names {file}, which is not a file")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(file)))
        return tuple(sources)

    def buffers(self) -> BufferConfig:
        return BufferConfig(retention=dict(self.retention), trades_kept=self.trades_kept)

    def socket_in(self, data_dir: Path) -> Path:
        return self.socket_path or data_dir / "daemon.sock"


def load_daemon_settings() -> DaemonSettings:
    """The settings, with a bad file or value as one `ConfigError` line."""
    try:
        settings = DaemonSettings()
        settings.buffers()
    except ValueError as exc:  # pydantic's ValidationError and tomllib's errors are ValueErrors
        reason = " ".join(str(exc).split())
        raise ConfigError(f"daemon settings: {reason}") from exc
    return settings
