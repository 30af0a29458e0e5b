"""Splitting one session by underlying, so engines on several cores can share a replay.

Everything the engine keeps is per underlying (an option's contract, quotes, packets, legs
of one multi-leg order, baselines) or per equity symbol (dark-pool windows, the spot of the
options on it), and an equity symbol shares its shard with the options on it. So on input
in canonical order each shard's engine emits exactly the outputs one engine would emit for
those underlyings: the shards' outputs together are the one engine's outputs, in another
order (which is why replays, whose stored tables are sets, run sharded, and why live
compute partitioned the same way stores the same tables). Events that only move time
forward go to every shard.

Which shard an underlying goes to changes nothing in the outputs, only the balance: names
with an expected weight (e.g. their print counts) are placed up front, heaviest first, each
on the lightest shard; a name seen without a weight goes to the shard that has received the
fewest events so far. A `stable` router (live ingest, where several publishers and their
restarts must agree) places every name by a hash of the name alone. A contract belongs to
the underlying its definition names; without a definition, to the event's own `underlying`
or else the root of its OCC symbol (as the engine itself decides).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from schemas.events import (
    EquityPrint,
    EquityQuote,
    Event,
    OpenInterest,
    OptionContract,
    OptionPrint,
    OptionQuote,
)
from schemas.occ import parse_occ
from schemas.subjects import BROADCAST_EVENTS

BROADCAST = BROADCAST_EVENTS  # what live ingest publishes to every partition


def stable_shard(name: str, shards: int) -> int:
    """The shard of underlying or equity symbol `name` by a hash of the name alone."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


class Router:
    """Routes raw events to shards, learning each contract's shard from its definition."""

    def __init__(
        self, shards: int, weights: Mapping[str, int] | None = None, *, stable: bool = False
    ) -> None:
        if shards < 1:
            raise ValueError(f"shards must be at least 1, got {shards}")
        if stable and weights:
            raise ValueError("a stable router places names by hash, not by weight")
        self.shards = shards
        self.stable = stable
        self.routed = [0] * shards  # events sent to each shard
        self._contracts: dict[int, int] = {}  # instrument_id -> shard
        self._names: dict[str, int] = {}  # underlying / equity symbol -> shard
        planned = [0] * shards
        for name, weight in sorted((weights or {}).items(), key=lambda item: (-item[1], item[0])):
            shard = min(range(shards), key=lambda s: (planned[s], s))
            planned[shard] += weight
            self._names[name] = shard

    def _by_name(self, name: str) -> int:
        shard = self._names.get(name)
        if shard is None:
            if self.stable:
                shard = self._names[name] = stable_shard(name, self.shards)
                return shard
            routed = self.routed
            shard = self._names[name] = min(range(self.shards), key=lambda s: (routed[s], s))
        return shard

    def _option(self, event: OptionPrint | OptionQuote | OpenInterest) -> int:
        shard = self._contracts.get(event.instrument_id)
        if shard is not None:
            return shard
        underlying = event.underlying
        if not underlying:
            try:
                underlying = parse_occ(event.symbol).root
            except ValueError:
                return 0  # the engine quarantines it, on whichever shard
        return self._by_name(underlying)

    def route(self, batch: Sequence[Event]) -> list[list[Event]]:
        """`batch` split into one list per shard, each in the order of `batch`."""
        parts: list[list[Event]] = [[] for _ in range(self.shards)]
        for event in batch:
            kind = type(event)
            if kind is OptionPrint or kind is OptionQuote or kind is OpenInterest:
                shard = self._option(event)  # type: ignore[arg-type]
            elif kind is EquityPrint or kind is EquityQuote:
                shard = self._by_name(event.symbol)  # type: ignore[attr-defined]
            elif kind is OptionContract:
                definition: OptionContract = event  # type: ignore[assignment]
                shard = self._by_name(definition.underlying)
                self._contracts[definition.instrument_id] = shard
            elif kind in BROADCAST:
                for part in parts:
                    part.append(event)
                continue
            else:
                shard = 0  # quarantined upstream, or not a raw event: the engine says so
            parts[shard].append(event)
        for shard, part in enumerate(parts):
            self.routed[shard] += len(part)
        return parts
