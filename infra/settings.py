"""Service settings from the environment and `.env` (seed-compatible names)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from compute.config import SEED_NAMES, EngineConfig, config_from_settings
from schemas.errors import ConfigError

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

    # Engine (DOMAIN.md seed thresholds)
    nbbo_max_age_ms: int = Field(1000, alias="NBBO_MAX_AGE_MS")
    rolling_window_size: int = Field(50, alias="ROLLING_WINDOW_SIZE")
    rolling_ttl_sec: int = Field(86400, alias="ROLLING_TTL_SEC")
    allowed_lateness_ms: int = Field(2000, alias="ALLOWED_LATENESS_MS")
    classifier_sweep_min_premium: int = Field(40000, alias="CLASSIFIER_SWEEP_MIN_PREMIUM")
    classifier_sweep_min_count: int = Field(3, alias="CLASSIFIER_SWEEP_MIN_COUNT")
    classifier_sweep_min_premium_z: float = Field(2.0, alias="CLASSIFIER_SWEEP_MIN_PREMIUM_Z")
    classifier_spike_min_premium: int = Field(20000, alias="CLASSIFIER_SPIKE_MIN_PREMIUM")
    classifier_spike_min_size: int = Field(400, alias="CLASSIFIER_SPIKE_MIN_SIZE")
    classifier_spike_min_premium_z: float = Field(2.5, alias="CLASSIFIER_SPIKE_MIN_PREMIUM_Z")
    classifier_spike_min_size_z: float = Field(2.0, alias="CLASSIFIER_SPIKE_MIN_SIZE_Z")
    classifier_z_min_samples: int = Field(12, alias="CLASSIFIER_Z_MIN_SAMPLES")
    classifier_min_nbbo_coverage: float = Field(0.5, alias="CLASSIFIER_MIN_NBBO_COVERAGE")
    classifier_min_aggressor_ratio: float = Field(0.55, alias="CLASSIFIER_MIN_AGGRESSOR_RATIO")

    # Sources
    databento_api_key: str = Field("", alias="DATABENTO_API_KEY")
    alpaca_api_key: str = Field("", alias="ALPACA_API_KEY")
    alpaca_secret_key: str = Field("", alias="ALPACA_SECRET_KEY")

    # Retention: RETENTION_DAYS_<TABLE>=N, by lower-case table name (the sink checks them)
    retention_days: dict[str, str] = Field(default_factory=dict, alias="RETENTION_DAYS")

    # API
    api_host: str = Field("127.0.0.1", alias="API_HOST")
    api_port: int = Field(8000, alias="API_PORT")

    @field_validator("run_id")
    @classmethod
    def _run_id_is_a_token(cls, value: str) -> str:
        if not value or not all(c.isalnum() or c in "_-" for c in value):
            raise ValueError(f"run id must be letters, digits, '_' or '-', got {value!r}")
        return value

    def engine_config(self) -> EngineConfig:
        """The engine's thresholds from these settings (seed names, scaled by the engine's
        own table: dollars -> cents, ms -> ns)."""
        values = self.model_dump(by_alias=True)
        return config_from_settings({name: str(values[name]) for name in SEED_NAMES})

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
