"""`flowtape monitor`'s TOML file: what it polls (`[services]`: name = its /health URL,
`clickhouse_url`, `nats_monitor_url`), its rules' limits (`[rules]`), where alerts go
(`[webhook]`, `[telegram]`) and its own `health_port`; ops/deploy/systemd/monitor.toml.example
shows every key. Secrets are named (`secret_env`, `token_env`) and read from the
environment."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

import msgspec

from ops.notify import TelegramChat, Webhook
from schemas.errors import ConfigError


class Follows(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """`follower`'s lastCycle may trail `leader`'s by at most `max_lag_s` (the sink its
    ingest source, say)."""

    follower: str
    leader: str
    max_lag_s: float


class Rules(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    degraded_polls: int = 2
    backlog_polls: int = 3
    stale_after_s: float = 300.0
    follows: list[Follows] = []


class WebhookEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    url: str
    secret_env: str


class TelegramEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    token_env: str
    chat_id: str
    base_url: str = "https://api.telegram.org"


class MonitorFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    services: dict[str, str]
    poll_every_s: float = 10.0
    clickhouse_url: str = ""
    nats_monitor_url: str = ""
    health_port: int | None = None
    rules: Rules = Rules()
    webhook: WebhookEntry | None = None
    telegram: TelegramEntry | None = None


class MonitorConfig(msgspec.Struct, frozen=True):
    services: dict[str, str]
    poll_every_s: float
    clickhouse_url: str
    health_port: int | None
    rules: Rules
    channels: list[Webhook | TelegramChat]
    nats_monitor_url: str = ""


def _secret(name: str, environ: Mapping[str, str]) -> str:
    value = environ.get(name, "")
    if not value:
        raise ConfigError(f"monitor config: {name} is not set")
    return value


def load_monitor_config(path: Path, environ: Mapping[str, str] = os.environ) -> MonitorConfig:
    """The monitor's configuration; ConfigError naming the problem when the file is wrong."""
    try:
        parsed = msgspec.convert(tomllib.loads(path.read_text()), MonitorFile)
    except (OSError, tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
        raise ConfigError(f"monitor config {path}: {exc}") from exc
    if parsed.rules.degraded_polls < 1 or parsed.rules.backlog_polls < 2:
        raise ConfigError("monitor config: degraded_polls >= 1 and backlog_polls >= 2")
    for pair in parsed.rules.follows:
        unknown = {pair.follower, pair.leader} - set(parsed.services)
        if unknown:
            raise ConfigError(f"monitor config: follows names no service {sorted(unknown)}")
    channels: list[Webhook | TelegramChat] = []
    if parsed.webhook is not None:
        secret = _secret(parsed.webhook.secret_env, environ)
        channels.append(Webhook(parsed.webhook.url, secret.encode()))
    if parsed.telegram is not None:
        token = _secret(parsed.telegram.token_env, environ)
        channels.append(TelegramChat(parsed.telegram.base_url, token, parsed.telegram.chat_id))
    if not channels:
        raise ConfigError("monitor config: no [webhook] and no [telegram]: alerts would go nowhere")
    return MonitorConfig(
        parsed.services, parsed.poll_every_s, parsed.clickhouse_url, parsed.health_port,
        parsed.rules, channels, parsed.nats_monitor_url,
    )  # fmt: skip
