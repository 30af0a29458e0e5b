"""Service settings from the environment and `.env` (seed-compatible names).

The engine's thresholds are declared with the engine (`compute.flow.config`): the callers that
build an engine take their raw values from `Settings.raw_environment`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources import ENV_FILE_SENTINEL, DotenvType

from infra.pages import HugePagePolicy
from schemas.errors import ConfigError

DAY_SNAPSHOTS_KEPT = 30  # a month of trading days

_MS = 1_000_000

_PLACEHOLDERS = {"changeme", "change-me", "secret", "your-api-key", "xxx"}


class Settings(BaseSettings):
    """Every knob flowtape reads; names are the environment variables' names."""

    # The nested delimiter gathers `RETENTION_DAYS_<TABLE>` into one dict field (only
    # dict and model fields are split; one split keeps table names whole).
    model_config = SettingsConfigDict(
        env_file=".env",
        extra="ignore",
        case_sensitive=False,
        env_nested_delimiter="_",
        env_nested_max_split=1,
    )

    environment: str = Field("development", alias="FLOWTAPE_ENV")
    data_dir: Path = Field(Path(".flowtape"), alias="FLOWTAPE_DATA_DIR")
    run_id: str = Field("live", alias="FLOWTAPE_RUN_ID")

    # External servers; empty means "use the embedded ones".
    nats_url: str = Field("", alias="NATS_URL")
    redis_url: str = Field("", alias="REDIS_URL")
    clickhouse_url: str = Field("", alias="CLICKHOUSE_URL")
    clickhouse_database: str = Field("flowtape", alias="CLICKHOUSE_DATABASE")

    # JetStream
    stream_max_bytes: int = Field(8 * 1024**3, alias="STREAM_MAX_BYTES")
    stream_duplicate_window_s: float = Field(120.0, alias="STREAM_DUPLICATE_WINDOW_S")
    # Copies of RAW and DERIVED kept by a NATS cluster (3 for `flowtape up --cluster 3`)
    stream_replicas: int = Field(1, ge=1, le=5, alias="FLOWTAPE_STREAM_REPLICAS")

    # Live compute: the reorder buffer's patience (the engine's thresholds: compute.flow.config)
    allowed_lateness_ms: int = Field(2000, alias="ALLOWED_LATENESS_MS")
    # The least time between live compute's checkpoints (the batches between are journaled)
    checkpoint_every_ms: int = Field(500, ge=0, alias="COMPUTE_CHECKPOINT_EVERY_MS")
    # Transparent huge pages in compute and replay: "off" (infra/pages.py says why) | "system"
    transparent_huge_pages: HugePagePolicy = Field("off", alias="FLOWTAPE_TRANSPARENT_HUGE_PAGES")
    # Engine states at the start of a UTC day kept in Redis for replays (the newest days)
    day_snapshots_kept: int = Field(DAY_SNAPSHOTS_KEPT, ge=1, alias="DAY_SNAPSHOTS_KEPT")
    # Logical partitions of live compute, by underlying (fixed for a run; live.partitions)
    partitions: int = Field(1, ge=1, le=1024, alias="FLOWTAPE_PARTITIONS")

    # Sources: secrets, handed to the source configs by whoever builds them; kept out of repr
    databento_api_key: str = Field("", alias="DATABENTO_API_KEY", repr=False)
    alpaca_api_key: str = Field("", alias="ALPACA_API_KEY", repr=False)
    alpaca_secret_key: str = Field("", alias="ALPACA_SECRET_KEY", repr=False)

    # Ingest's ID bridge (ingest.bridge): default | strict | shadow, and the operators'
    # overrides file (TOML or JSON), polled for changes every FLOWTAPE_ID_OVERRIDES_POLL_S
    id_bridge_mode: str = Field("default", alias="FLOWTAPE_ID_BRIDGE_MODE")  # checked there
    id_overrides: Path | None = Field(None, alias="FLOWTAPE_ID_OVERRIDES")
    id_overrides_poll_s: float = Field(1.0, gt=0, alias="FLOWTAPE_ID_OVERRIDES_POLL_S")

    # Retention: RETENTION_DAYS_<TABLE>=N, by lower-case table name (the sink checks them)
    retention_days: dict[str, str] = Field(default_factory=dict, alias="RETENTION_DAYS")

    # API
    api_host: str = Field("127.0.0.1", alias="API_HOST")
    api_port: int = Field(8000, alias="API_PORT")
    # "keys": every route but the public ones needs an API key (`flowtape keys`); "off": no
    # keys, allowed only in development on a loopback address (`check_api_binding`); unset:
    # `auth_mode` chooses.
    api_auth: Literal["keys", "off"] | None = Field(None, alias="API_AUTH")
    api_key_rate: str = Field("50/s", alias="API_KEY_RATE")  # a key created without --rate
    metrics_public: bool = Field(True, alias="METRICS_PUBLIC")  # false: /metrics needs admin
    # Browser origins the WebSocket accepts, comma-separated; an entry without a port allows
    # every port of its host. Clients that send no Origin (not browsers) are not affected.
    api_allowed_origins: str = Field(
        "http://localhost,http://127.0.0.1,http://[::1]", alias="API_ALLOWED_ORIGINS"
    )
    # permessage-deflate on the tape's WebSocket: each connection compresses every frame again
    # (a deflate context is per connection), which costs more CPU than building the frame;
    # worth it only for clients behind a slow link.
    api_ws_deflate: bool = Field(False, alias="API_WS_DEFLATE")

    # The `.env` file these settings were read from, for `raw_environment`.
    _env_file: DotenvType | None = PrivateAttr(ENV_FILE_SENTINEL)

    def __init__(self, _env_file: DotenvType | None = ENV_FILE_SENTINEL, **values: Any) -> None:
        super().__init__(_env_file=_env_file, **values)
        self._env_file = _env_file

    @field_validator("run_id")
    @classmethod
    def _run_id_is_a_token(cls, value: str) -> str:
        if not value or not all(c.isalnum() or c in "_-" for c in value):
            raise ValueError(f"run id must be letters, digits, '_' or '-', got {value!r}")
        return value

    def raw_environment(self, names: Iterable[str]) -> dict[str, str]:
        """The text of each variable in `names` that is set, from the environment else `.env`
        (as the fields are read): for settings declared elsewhere, such as the engine's
        thresholds (`compute.config_from_settings(settings.raw_environment(SEED_NAMES))`)."""
        sources = (
            EnvSettingsSource(type(self)),
            DotEnvSettingsSource(type(self), env_file=self._env_file),
        )
        found: dict[str, str] = {}
        for name in names:
            for source in sources:
                value = source.env_vars.get(name.lower())  # names are not case-sensitive
                if value is not None:
                    found[name] = value
                    break
        return found

    @property
    def allowed_lateness_ns(self) -> int:
        return self.allowed_lateness_ms * _MS

    def check_secrets(self) -> None:
        """Outside development a secret left at a placeholder refuses to start."""
        if self.environment == "development":
            return
        for name in ("databento_api_key", "alpaca_api_key", "alpaca_secret_key"):
            if str(getattr(self, name)).lower() in _PLACEHOLDERS:
                raise ConfigError(f"{name.upper()} is a placeholder; set a real value")

    def auth_mode(self, host: str | None = None) -> Literal["keys", "off"]:
        """API_AUTH where it is set; unset, no keys in development on a loopback address (the
        web page of `flowtape up` works as installed) and keys everywhere else."""
        if self.api_auth is not None:
            return self.api_auth
        local = self.environment == "development" and is_loopback(host or self.api_host)
        return "off" if local else "keys"

    def check_api_binding(self, host: str) -> None:
        """API_AUTH=off serves without keys: only in development, on a loopback address."""
        if self.auth_mode(host) == "keys":
            return
        if self.environment != "development":
            raise ConfigError(
                f"API_AUTH=off needs FLOWTAPE_ENV=development, not {self.environment}"
            )
        if not is_loopback(host):
            raise ConfigError(
                f"API_AUTH=off serves without keys, so only on loopback; refusing to bind {host!r}"
                " (create a key with `flowtape keys create` and set API_AUTH=keys)"
            )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
