"""A FramePlayer that answers like Bybit V5 when a client subscribes a book topic again.

Each connection keeps the venue's order book per `orderbook.<depth>.<symbol>` topic from every
frame it has gone past, skipped ones included (the venue's book moved on even if the client
never saw the frame). A `subscribe` after the connection's first is answered with the success
reply and, per book topic it names, a `type: "snapshot"` frame of that book under the last
`u` (as Bybit sends on every subscription), so the deltas that follow continue it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from tests.kit.crypto_servers import FramePlayer, Plan, bybit_reply


class VenueBook:
    """One topic's book as the venue holds it: price -> size strings per side."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}
        self.last: dict[str, Any] = {}  # the last frame's envelope and `data` fields

    def apply(self, message: dict[str, Any]) -> None:
        data = message["data"]
        if message["type"] == "snapshot":
            self.bids.clear()
            self.asks.clear()
        for side, book in (("b", self.bids), ("a", self.asks)):
            for price, size in data[side]:
                if Decimal(size) == 0:
                    book.pop(price, None)
                else:
                    book[price] = size
        self.last = {"ts": message["ts"], "cts": message["cts"], "s": data["s"],
                     "u": data["u"], "seq": data["seq"]}  # fmt: skip

    def snapshot(self, topic: str) -> str:
        """The book as a Bybit `snapshot` frame of `topic`, best levels first."""
        bids = sorted(self.bids.items(), key=lambda level: Decimal(level[0]), reverse=True)
        asks = sorted(self.asks.items(), key=lambda level: Decimal(level[0]))
        last = self.last
        data = {
            "s": last["s"],
            "b": [list(level) for level in bids[: self.depth]],
            "a": [list(level) for level in asks[: self.depth]],
            "u": last["u"],
            "seq": last["seq"],
        }
        return json.dumps(
            {"topic": topic, "type": "snapshot", "ts": last["ts"], "data": data, "cts": last["cts"]}
        )


class BybitPlayer(FramePlayer):
    """FramePlayer with Bybit's answer to a book topic subscribed again: a fresh snapshot."""

    def __init__(self, frames: Sequence[str], plans: Sequence[Plan] = (Plan(),)) -> None:
        super().__init__(frames, plans, bybit_reply)
        self.books: defaultdict[int, dict[str, VenueBook]] = defaultdict(dict)
        self.snapshots: list[str] = []  # every snapshot sent in answer to a subscribe

    def passed(self, index: int, position: int) -> None:
        message = json.loads(self.frames[position])
        topic = str(message.get("topic", ""))
        channel, _, depth = topic.rpartition(".")[0].partition(".")
        if channel == "orderbook":
            books = self.books[index]
            books.setdefault(topic, VenueBook(int(depth))).apply(message)

    def answers(self, index: int, message: str) -> list[str]:
        request = json.loads(message)
        if request.get("op") not in ("subscribe", "unsubscribe"):
            return super().answers(index, message)
        reply = {"success": True, "ret_msg": "", "conn_id": "t",
                 "req_id": request.get("req_id", ""), "op": request["op"]}  # fmt: skip
        out = [json.dumps(reply)]
        if request["op"] == "subscribe":
            books = self.books[index]
            fresh = [books[t].snapshot(t) for t in request.get("args", ()) if t in books]
            self.snapshots.extend(fresh)
            out.extend(fresh)
        return out
