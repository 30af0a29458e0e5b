"""Exponential reconnect delays: `base_s`, doubling, capped at `max_s` (1 s -> 60 s live)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Backoff:
    base_s: float = 1.0
    max_s: float = 60.0
    attempts: int = 0

    def next_delay(self) -> float:
        """The delay before the next attempt (and count it)."""
        delay = float(min(self.base_s * 2**self.attempts, self.max_s))
        self.attempts += 1
        return delay

    def reset(self) -> None:
        self.attempts = 0
