"""The monitor's file: the example loads; a missing secret or no channel is a config error."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.monitor_config import Source, load_monitor_config
from ops.notify import TelegramChat, Webhook
from schemas.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[3] / "ops/deploy/systemd/monitor.toml.example"
SECRETS = {"FLOWTAPE_MONITOR_WEBHOOK_SECRET": "w-9c1e", "FLOWTAPE_TELEGRAM_TOKEN": "t:4d2b"}


def test_the_example_loads_with_both_channels_and_hides_their_secrets() -> None:
    config = load_monitor_config(EXAMPLE, SECRETS)
    assert set(config.services) == {
        "api",
        "sink",
        "compute",
        "alpha",
        "ingest-databento-live",
        "features",
        "daemon",
        "record",
    }
    assert (config.rules.degraded_polls, config.rules.backlog_polls) == (2, 3)
    assert config.nats_monitor_url == "http://127.0.0.1:8222"
    assert [(f.follower, f.leader, f.max_lag_s) for f in config.rules.follows] == [
        ("sink", "ingest-databento-live", 60), ("compute", "ingest-databento-live", 60),
    ]  # fmt: skip
    assert config.nats_url == "nats://127.0.0.1:4222" and config.rules.backlog_min == 1000
    (source,) = config.sources.items()
    assert source == ("databento", Source(hours="us_equities", max_age_s=120))
    webhook, chat = config.channels
    assert isinstance(webhook, Webhook) and webhook.secret == b"w-9c1e"
    assert isinstance(chat, TelegramChat) and chat.token == SECRETS["FLOWTAPE_TELEGRAM_TOKEN"]
    assert "w-9c1e" not in repr(webhook) and "t:4d2b" not in repr(chat)


def test_follows_must_name_services(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace('leader = "ingest-databento-live"', 'leader = "ingets"')
    (tmp_path / "m.toml").write_text(text)
    with pytest.raises(ConfigError, match="follows names no service"):
        load_monitor_config(tmp_path / "m.toml", SECRETS)


def test_a_missing_secret_is_named() -> None:
    with pytest.raises(ConfigError, match="FLOWTAPE_TELEGRAM_TOKEN is not set"):
        load_monitor_config(EXAMPLE, {"FLOWTAPE_MONITOR_WEBHOOK_SECRET": "w"})


def test_a_config_without_a_channel_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text('[services]\nsink = "http://127.0.0.1:1/health"\n')
    with pytest.raises(ConfigError, match="alerts would go nowhere"):
        load_monitor_config(tmp_path / "m.toml", {})


def test_an_unknown_rule_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text("[services]\n[rules]\ndegraded_pols = 2\n")
    with pytest.raises(ConfigError, match="degraded_pols"):
        load_monitor_config(tmp_path / "m.toml", {})


def test_sources_need_the_log_and_known_hours(tmp_path: Path) -> None:
    without_log = EXAMPLE.read_text().replace('nats_url = "nats://127.0.0.1:4222"', "")
    (tmp_path / "m.toml").write_text(without_log)
    with pytest.raises(ConfigError, match=r"\[sources\] need nats_url"):
        load_monitor_config(tmp_path / "m.toml", SECRETS)
    bad_hours = EXAMPLE.read_text().replace('hours = "us_equities"', 'hours = "lunar"')
    (tmp_path / "m.toml").write_text(bad_hours)
    with pytest.raises(ConfigError, match="lunar"):
        load_monitor_config(tmp_path / "m.toml", SECRETS)
    bad_name = EXAMPLE.read_text().replace("[sources.databento]", '[sources."Data Bento"]')
    (tmp_path / "m.toml").write_text(bad_name)
    with pytest.raises(ConfigError, match="Data Bento"):
        load_monitor_config(tmp_path / "m.toml", SECRETS)
