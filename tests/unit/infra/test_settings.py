import pytest

import compute.flow as flow
from infra.settings import Settings
from schemas.errors import ConfigError


def engine_config(settings: Settings) -> flow.EngineConfig:
    return flow.config_from_settings(settings.raw_environment(flow.SEED_NAMES))


def test_default_settings_give_the_engine_its_default_thresholds() -> None:
    assert engine_config(Settings()) == flow.EngineConfig()


def test_seed_names_are_read_from_the_environment_in_their_units(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NBBO_MAX_AGE_MS", "250")
    monkeypatch.setenv("CLASSIFIER_SWEEP_MIN_PREMIUM", "50000")
    monkeypatch.setenv("CLASSIFIER_Z_MIN_SAMPLES", "20")
    config = engine_config(Settings())
    assert config.nbbo_max_age_ns == 250_000_000
    assert config.classifier_sweep_min_premium_cents == 5_000_000
    assert config.classifier_z_min_samples == 20


def test_a_bad_value_is_refused_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLING_WINDOW_SIZE", "fifty")
    with pytest.raises(ValueError, match="ROLLING_WINDOW_SIZE"):
        engine_config(Settings())


def test_placeholder_secrets_refuse_to_start_outside_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABENTO_API_KEY", "changeme")
    Settings().check_secrets()  # development tolerates it
    monkeypatch.setenv("FLOWTAPE_ENV", "production")
    with pytest.raises(ConfigError, match="DATABENTO_API_KEY"):
        Settings().check_secrets()


def test_run_ids_are_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWTAPE_RUN_ID", "live; DROP TABLE")
    with pytest.raises(ValueError, match="run id"):
        Settings()


def test_unset_api_auth_serves_without_keys_only_in_development_on_loopback() -> None:
    dev = Settings(_env_file=None, FLOWTAPE_ENV="development")
    assert dev.auth_mode() == "off"  # the web page of `flowtape up` works as installed
    assert dev.auth_mode("0.0.0.0") == "keys"  # noqa: S104  (a bind address under test)
    assert Settings(_env_file=None, FLOWTAPE_ENV="production").auth_mode() == "keys"
    assert Settings(_env_file=None, API_AUTH="keys").auth_mode() == "keys"
    dev.check_api_binding("0.0.0.0")  # noqa: S104  (unset: keys there, so nothing to refuse)
