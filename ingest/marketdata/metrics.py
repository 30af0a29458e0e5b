"""What the market-data service counts, and its Prometheus text."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import msgspec

from schemas.crypto import CryptoMarketEvent, CryptoQuote, CryptoTrade, ProviderGap, ProviderSwitch
from schemas.events import Event

# Exchange-to-receive latency buckets, in milliseconds.
LATENCY_BUCKETS_MS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)
RATE_WINDOW_S = 10.0


@dataclass
class MarketDataMetrics:
    events: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # provider/type/sym
    gaps: Counter[tuple[str, str]] = field(default_factory=Counter)  # provider/reason
    failovers: Counter[str] = field(default_factory=Counter)  # group
    latency_buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS_MS) + 1))
    latency_sum_ms: float = 0.0
    latency_count: int = 0
    published_events: int = 0
    published_messages: int = 0
    publish_failures: int = 0
    md_messages: int = 0
    last_publish_wall_ns: int = 0
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_data: dict[str, float] = field(default_factory=dict)  # provider -> monotonic time
    _arrivals: deque[tuple[float, int]] = field(default_factory=deque)

    def saw(self, event: Event) -> None:
        """An event a provider handed over (before the queue's policy)."""
        name = type(event).__name__
        if isinstance(event, CryptoMarketEvent):
            self.events[(event.source, name, event.symbol)] += 1
            self.last_data[event.source] = time.monotonic()
            if event.ts_event != event.ts_recv:  # spot book tickers carry no exchange time
                self._latency((event.ts_recv - event.ts_event) / 1e6)
            if isinstance(event, CryptoTrade | CryptoQuote):
                key = "trade" if isinstance(event, CryptoTrade) else "quote"
                self.latest.setdefault(event.symbol, {})[key] = msgspec.to_builtins(event)
        else:
            self.events[(str(getattr(event, "source", "")), name, "")] += 1
        if isinstance(event, ProviderGap):
            self.gaps[(event.source, event.reason)] += 1
        elif isinstance(event, ProviderSwitch):
            self.failovers[event.failover_group] += 1
        now = time.monotonic()
        if self._arrivals and now - self._arrivals[-1][0] < 0.1:
            moment, count = self._arrivals[-1]
            self._arrivals[-1] = (moment, count + 1)
        else:
            self._arrivals.append((now, 1))
        while self._arrivals and now - self._arrivals[0][0] > RATE_WINDOW_S:
            self._arrivals.popleft()

    def _latency(self, ms: float) -> None:
        self.latency_buckets[bisect_left(LATENCY_BUCKETS_MS, ms)] += 1
        self.latency_sum_ms += ms
        self.latency_count += 1

    def events_per_second(self) -> float:
        return sum(count for _, count in self._arrivals) / RATE_WINDOW_S

    def prometheus(self, queue_stats: dict[str, Any]) -> str:
        lines = [
            "# HELP flowtape_md_events_total Events received, by provider, type and symbol.",
            "# TYPE flowtape_md_events_total counter",
        ]
        for (provider, kind, symbol), count in sorted(self.events.items()):
            labels = f'provider="{provider}",type="{kind}",symbol="{symbol}"'
            lines.append(f"flowtape_md_events_total{{{labels}}} {count}")
        lines += [
            "# HELP flowtape_md_events_per_second Events received per second (last 10 s).",
            "# TYPE flowtape_md_events_per_second gauge",
            f"flowtape_md_events_per_second {self.events_per_second():.3f}",
            "# HELP flowtape_md_latency_ms Exchange event time to local receive time.",
            "# TYPE flowtape_md_latency_ms histogram",
        ]
        cumulative = 0
        for bound, count in zip((*LATENCY_BUCKETS_MS, "+Inf"), self.latency_buckets, strict=True):
            cumulative += count
            lines.append(f'flowtape_md_latency_ms_bucket{{le="{bound}"}} {cumulative}')
        lines += [
            f"flowtape_md_latency_ms_sum {self.latency_sum_ms:.3f}",
            f"flowtape_md_latency_ms_count {self.latency_count}",
            "# HELP flowtape_md_gaps_total Gap events, by provider and reason.",
            "# TYPE flowtape_md_gaps_total counter",
        ]
        for (provider, reason), count in sorted(self.gaps.items()):
            lines.append(
                f'flowtape_md_gaps_total{{provider="{provider}",reason="{reason}"}} {count}'
            )
        lines += [
            "# HELP flowtape_md_drops_total Events the publisher queue dropped, by type.",
            "# TYPE flowtape_md_drops_total counter",
        ]
        for kind, count in sorted(queue_stats["dropped"].items()):
            lines.append(f'flowtape_md_drops_total{{type="{kind}"}} {count}')
        lines += [
            "# HELP flowtape_md_failovers_total Provider switches, by failover group.",
            "# TYPE flowtape_md_failovers_total counter",
        ]
        for group, count in sorted(self.failovers.items()):
            lines.append(f'flowtape_md_failovers_total{{group="{group}"}} {count}')
        lines += [
            "# TYPE flowtape_md_queue_fill_ratio gauge",
            f"flowtape_md_queue_fill_ratio {queue_stats['fill_pct'] / 100:.4f}",
            "# TYPE flowtape_md_published_events_total counter",
            f"flowtape_md_published_events_total {self.published_events}",
        ]
        return "\n".join(lines) + "\n"
