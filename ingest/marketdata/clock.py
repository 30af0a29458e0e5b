"""The receive clock of a provider: wall time that never runs backwards.

Providers of one failover group share one clock, so the events they publish keep one
non-decreasing `ts_recv` whichever provider is active.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class ReceiveClock:
    """`now()` is the wall clock in ns, held at its last value if the wall clock steps back."""

    def __init__(self, wall: Callable[[], int] = time.time_ns) -> None:
        self._wall = wall
        self._last = 0

    def now(self) -> int:
        self._last = max(self._wall(), self._last)
        return self._last
