"""The durable record of accepted vouchers and channel state: Redis with its append-only file.

Why Redis (and not ClickHouse): accepting a voucher is a compare-and-set (the cumulative
amount only rises, a challenge is answered once) that must be atomic against concurrent
requests, and must be on disk before the minute it buys is served. Redis runs the
compare-and-set as one Lua script, and `WAITAOF 1 0` returns only once this connection's
writes are fsynced to the append-only file (the embedded server runs with appendonly yes),
so a reply, and with it a stream token, never exists for a voucher a restart could lose.
Each change runs on a connection of its own from the pool, so concurrent vouchers wait for
the same fsync instead of queueing behind each other's.
ClickHouse has neither the atomic compare-and-set nor a synchronous durable write.

Keys (namespace `flowtape:mpp`): `channel:{id}` the channel's state as JSON; `challenge:{id}`
the digest of the credential that answered it, kept until the challenge expires (after that
its HMAC check refuses it anyway); `open` the set of channels not yet finalised.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import redis.asyncio as redis

from payments.accounting import ChannelState, Purchase
from payments.errors import PaymentRefused, PaymentUnavailable

NAMESPACE = "flowtape:mpp"
FSYNC_TIMEOUT_MS = 2_000
MAX_CONNECTIONS = 64
CONNECTION_WAIT_S = 30

# KEYS: channel, open set[, challenge]; ARGV: expected state ("" = absent), new state,
# channel id, finalised ("1"/"0")[, credential digest, challenge expiry (epoch s)].
# Returns 1 when written, 0 when the state moved meanwhile, -1 when the challenge was
# answered by another credential.
_COMPARE_AND_SET = """
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then return 0 end
if #KEYS == 3 then
  local used = redis.call('GET', KEYS[3])
  if used and used ~= ARGV[5] then return -1 end
  redis.call('SET', KEYS[3], ARGV[5], 'EXAT', ARGV[6])
end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[4] == '1' then
  redis.call('SREM', KEYS[2], ARGV[3])
else
  redis.call('SADD', KEYS[2], ARGV[3])
end
return 1
"""

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(ChannelState).decode


class Ledger:
    """Channel states in Redis; every change a durable compare-and-set."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._script = client.register_script(_COMPARE_AND_SET)

    @classmethod
    def connect(cls, url: str) -> Ledger:
        # A burst of vouchers waits for a free connection rather than failing.
        pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=MAX_CONNECTIONS, timeout=CONNECTION_WAIT_S
        )
        return cls(redis.Redis(connection_pool=pool))

    async def close(self) -> None:
        await self.client.aclose(close_connection_pool=True)

    def _key(self, channel_id: str) -> str:
        return f"{NAMESPACE}:channel:{channel_id.lower()}"

    async def channel(self, channel_id: str) -> ChannelState | None:
        raw = await self.client.get(self._key(channel_id))
        return None if raw is None else _decode(raw)

    async def open_channels(self) -> list[str]:
        return sorted(m.decode() for m in await self.client.smembers(f"{NAMESPACE}:open"))

    async def change(
        self,
        channel_id: str,
        decide: Callable[[ChannelState | None], Purchase],
        *,
        challenge: tuple[str, str, int] | None = None,
    ) -> Purchase:
        """Apply `decide` to the channel's stored state (None before it is known) and store
        the result durably; `challenge` = (challenge id, credential digest, expiry) marks the
        challenge answered in the same step, refusing one answered by another credential."""
        keys = [self._key(channel_id), f"{NAMESPACE}:open"]
        # One connection for the read, the write and WAITAOF: it waits for this
        # connection's own writes.
        async with self.client.client() as connection:
            while True:
                raw = await connection.get(keys[0])
                purchase = decide(None if raw is None else _decode(raw))
                args: list[str | int] = [
                    (raw or b"").decode(), _encode(purchase.state).decode(), channel_id.lower(),
                    "1" if purchase.state.finalized else "0",
                ]  # fmt: skip
                if challenge is not None:
                    challenge_id, digest, expires_s = challenge
                    keys_now = [*keys, f"{NAMESPACE}:challenge:{challenge_id}"]
                    args += [digest, expires_s]
                else:
                    keys_now = keys
                written = await self._script(keys=keys_now, args=args, client=connection)
                if written == -1:
                    raise PaymentRefused(
                        "this challenge was already answered; ask for a new one",
                        code="challenge_replayed",
                    )
                if written == 1:
                    await self._durable(connection)
                    return purchase
                # Another request changed the channel between the read and the write: again.

    async def _durable(self, connection: redis.Redis) -> None:
        try:
            local, _replicas = await connection.execute_command("WAITAOF", 1, 0, FSYNC_TIMEOUT_MS)
        except redis.ResponseError:  # appendonly is off: there is nothing to wait for
            local = 0
        if int(local) < 1:
            raise PaymentUnavailable(
                "the store did not confirm the voucher on disk (Redis needs appendonly yes)"
            )
