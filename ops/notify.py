"""Where the monitor's alerts go: a signed webhook and a chat in Telegram's Bot API format
(`POST {base_url}/bot{token}/sendMessage`, base URL configurable). Secrets never logged."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp
import msgspec

from ops.signing import SIGNATURE_HEADER, sign

log = logging.getLogger("flowtape.monitor")


class Notice(msgspec.Struct, frozen=True):
    """One alert or recovery: `rule` fired (or cleared) for `target`."""

    rule: str
    target: str
    state: str  # "firing" | "recovered"
    message: str
    at: str  # ISO-8601 UTC

    def text(self) -> str:
        mark = "ALERT" if self.state == "firing" else "RECOVERED"
        return f"[flowtape {mark}] {self.rule} {self.target}: {self.message}"


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: bytes

    def request(self, notice: Notice) -> tuple[str, bytes, dict[str, str]]:
        body = msgspec.json.encode(notice)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret, body)}
        return self.url, body, headers

    def __repr__(self) -> str:
        return f"Webhook({self.url!r})"


@dataclass(frozen=True)
class TelegramChat:
    base_url: str
    token: str
    chat_id: str

    def request(self, notice: Notice) -> tuple[str, bytes, dict[str, str]]:
        body = msgspec.json.encode({"chat_id": self.chat_id, "text": notice.text()})
        url = f"{self.base_url.rstrip('/')}/bot{self.token}/sendMessage"
        return url, body, {"Content-Type": "application/json"}

    def __repr__(self) -> str:
        return f"TelegramChat({self.base_url!r}, chat {self.chat_id!r})"


async def send(
    http: aiohttp.ClientSession,
    channel: Webhook | TelegramChat,
    notice: Notice,
    *,
    attempts: int = 4,
    first_delay_s: float = 0.5,
) -> bool:
    """POST the notice, retrying with a doubling delay; False when every attempt failed."""
    url, body, headers = channel.request(notice)
    for attempt in range(1, attempts + 1):
        try:
            async with http.post(url, data=body, headers=headers) as response:
                if 200 <= response.status < 300:
                    return True
                failure = f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            failure = type(exc).__name__
        log.warning("notice %s %s to %r failed (%s)", notice.rule, notice.target, channel, failure)
        if attempt < attempts:
            await asyncio.sleep(first_delay_s * 2 ** (attempt - 1))
    return False
