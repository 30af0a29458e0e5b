"""`flowtape monitor`'s TOML file: what it polls (`[services]`: name = its /health URL,
`clickhouse_url`, `nats_monitor_url`; `[sources.<name>]`: a source whose data must keep
arriving on the log at `nats_url` while its market is open), its rules' limits (`[rules]`),
where alerts go (`[webhook]`, `[telegram]`) and its own `health_port`;
ops/deploy/systemd/monitor.toml.example shows every key. Secrets are named (`secret_env`,
`token_env`) and read from the environment."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

import msgspec

from ops.market_hours import MarketHours
from ops.notify import TelegramChat, Webhook
from schemas.errors import ConfigError

_SOURCE_NAME = re.compile(r"^[a-z0-9_-]{1,64}$")  # a subject token (schemas.subjects)


class Follows(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """`follower`'s lastCycle may trail `leader`'s by at most `max_lag_s` (the sink its
    ingest source, say)."""

    follower: str
    leader: str
    max_lag_s: float


class Rules(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    degraded_polls: int = 2
    backlog_polls: int = 3
    # A backlog below this is a consumer's ordinary batching, not one falling behind
    backlog_min: int = 1_000
    stale_after_s: float = 300.0
    follows: list[Follows] = []


class Source(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The `stale_data` rule of one source (its name on `flow.raw.<type>.<name>`): while
    its market is open (`hours`), market data at least every `max_age_s` seconds."""

    hours: MarketHours = "always"
    max_age_s: float = 300.0


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
    # A /health slower than this is no answer (service_down); a busy service can be slow
    health_timeout_s: float = 5.0
    clickhouse_url: str = ""
    nats_monitor_url: str = ""
    health_port: int | None = None
    nats_url: str = ""
    sources: dict[str, Source] = {}
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
    nats_url: str = ""
    sources: dict[str, Source] = {}
    health_timeout_s: float = 5.0


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
    if parsed.sources and not parsed.nats_url:
        raise ConfigError("monitor config: [sources] need nats_url (the log they are read from)")
    for name, source in parsed.sources.items():
        if not _SOURCE_NAME.match(name) or source.max_age_s <= 0:
            raise ConfigError(
                f"monitor config: source {name!r} needs a name of [a-z0-9_-] and max_age_s > 0"
            )
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
        parsed.rules, channels, parsed.nats_monitor_url, parsed.nats_url, parsed.sources,
        parsed.health_timeout_s,
    )  # fmt: skip
