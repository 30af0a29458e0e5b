"""The paid alpha stream's parts in the API: the payment gateway, the frame feed and the
settler, started with the app and stopped with it.

The gateway comes from the MPP_* environment (payments.config) unless the app is given
one. Where the environment cannot make one (no escrow configured, a placeholder secret
outside development, no Redis for the ledger) the API still serves everything else and
the alpha stream's routes answer 503 with the reason. The routes are there only where a
gateway is given or MPP_* names the network's escrow and currency (`configured`): an API
that sells nothing does not offer the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from web3 import Web3

from api.alpha_feed import AlphaFeed
from api.services import Services, Unavailable
from infra.settings import Settings
from payments.config import PaymentConfig
from payments.escrow import Escrow
from payments.gateway import PaymentGateway
from payments.ledger import Ledger
from payments.settlement import Settler
from schemas.errors import ConfigError

log = logging.getLogger("flowtape.api.alpha_stream")
RPC_TIMEOUT_S = 10


def configured(gateway: PaymentGateway | None) -> bool:
    """Whether an app with this gateway (or, None, the MPP_* environment) sells the stream."""
    if gateway is not None:
        return True
    network = PaymentConfig().network
    return bool(network.escrow and network.currency)


def gateway_from_environment(settings: Settings, services: Services) -> PaymentGateway:
    """The gateway the MPP_* variables describe; ConfigError saying what is missing."""
    config = PaymentConfig()
    config.check()
    network = config.network
    if not network.escrow or not network.currency:
        name = network.name.upper()
        raise ConfigError(
            f"the {network.name} escrow and currency are not set (MPP_{name}_ESCROW,"
            f" MPP_{name}_CURRENCY)"
        )
    redis_url = settings.redis_url or services.urls.get("redis")
    if not redis_url:
        raise ConfigError("the payment ledger needs Redis: set REDIS_URL or run `flowtape up`")
    provider = Web3.HTTPProvider(network.rpc_url, request_kwargs={"timeout": RPC_TIMEOUT_S})
    escrow = Escrow(Web3(provider), network.escrow, config.recipient())
    return PaymentGateway(config, network, Ledger.connect(redis_url), escrow)


@dataclass
class AlphaStream:
    """What the alpha stream's routes use; `gateway` None with `reason` when unavailable."""

    feed: AlphaFeed
    gateway: PaymentGateway | None
    reason: str = ""
    settler: Settler | None = None
    settling: asyncio.Task[None] | None = None

    def report(self) -> dict[str, Any]:
        """The paid stream's part of the API's `/health`: available or why not, and its
        settler (last good pass, last failure's kind, circuit breaker)."""
        return {
            "available": self.gateway is not None,
            "reason": self.reason,
            "subscribers": sum(len(group) for group in self.feed.subscribers.values()),
            "framesRead": self.feed.frames_read,
            "framesDropped": self.feed.dropped,
            "settlement": self.settler.report() if self.settler is not None else None,
        }

    def require(self) -> PaymentGateway:
        if self.gateway is None:
            raise Unavailable(f"the alpha stream is not available: {self.reason}")
        return self.gateway

    @classmethod
    async def open(
        cls, settings: Settings, services: Services, gateway: PaymentGateway | None
    ) -> AlphaStream:
        reason = ""
        if gateway is None:
            try:
                gateway = gateway_from_environment(settings, services)
            except ConfigError as exc:
                reason = str(exc)
                log.warning("alpha stream unavailable: %s", reason)
        clock = gateway.clock if gateway is not None else time.time
        stream = cls(AlphaFeed(services, clock), gateway, reason)
        if gateway is not None:
            stream.feed.start()
            stream.settler = Settler(
                gateway.ledger, gateway.escrow, interval_s=gateway.config.settle_interval_s
            )
            stream.settling = asyncio.create_task(stream.settler.run(), name="flowtape-mpp-settler")
        return stream

    async def close(self) -> None:
        if self.settling is not None:
            self.settling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.settling
        await self.feed.stop()
        if self.gateway is not None:
            await self.gateway.ledger.close()
