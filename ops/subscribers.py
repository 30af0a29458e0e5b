"""Who receives which flow alerts: subscribers read from a TOML file.

    [[subscriber]]
    name = "desk"
    url = "https://hooks.example.com/flowtape"
    secret_env = "FLOWTAPE_HOOK_DESK_SECRET"   # the HMAC key, from the environment
    symbols = ["SPY", "QQQ"]                     # underlyings; empty or absent: all
    min_severity = 3                             # 1..5
    rules = ["sweep_burst"]                      # any of them; empty or absent: all

The secret stays out of the file and out of every log line.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

import msgspec

from schemas.errors import ConfigError
from schemas.events import Alert


class SubscriberEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    name: str
    url: str
    secret_env: str
    symbols: list[str] = []
    min_severity: int = 1
    rules: list[str] = []


class SubscribersFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    subscriber: list[SubscriberEntry]


class Subscriber(msgspec.Struct, frozen=True):
    """One webhook and its filter; `secret` signs what it is sent."""

    name: str
    url: str
    secret: bytes = msgspec.field(default=b"")
    symbols: frozenset[str] = frozenset()
    min_severity: int = 1
    rules: frozenset[str] = frozenset()

    def __repr__(self) -> str:  # the secret never reaches a log line
        return f"Subscriber({self.name!r}, {self.url!r})"

    def wants(self, alert: Alert) -> bool:
        """True when the alert passes this subscriber's symbols, severity and rules."""
        return (
            (not self.symbols or alert.underlying in self.symbols)
            and alert.severity >= self.min_severity
            and (not self.rules or not self.rules.isdisjoint(alert.rules))
        )


def load_subscribers(path: Path, environ: Mapping[str, str] = os.environ) -> list[Subscriber]:
    """The subscribers of `path`; ConfigError naming the problem when the file is wrong."""
    try:
        parsed = msgspec.convert(tomllib.loads(path.read_text()), SubscribersFile)
    except (OSError, tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
        raise ConfigError(f"subscribers file {path}: {exc}") from exc
    names = [entry.name for entry in parsed.subscriber]
    if len(set(names)) != len(names):
        raise ConfigError(f"subscribers file {path}: a name appears twice in {names}")
    subscribers = []
    for entry in parsed.subscriber:
        if not entry.url.startswith(("http://", "https://")):
            raise ConfigError(f"subscriber {entry.name}: expected an http(s) URL")
        if not 1 <= entry.min_severity <= 5:
            raise ConfigError(f"subscriber {entry.name}: min_severity must be 1 to 5")
        secret = environ.get(entry.secret_env, "")
        if not secret:
            raise ConfigError(f"subscriber {entry.name}: {entry.secret_env} is not set")
        subscribers.append(
            Subscriber(
                entry.name,
                entry.url,
                secret.encode(),
                frozenset(entry.symbols),
                entry.min_severity,
                frozenset(entry.rules),
            )  # fmt: skip
        )
    return subscribers
