"""The sink's knobs: batching, fetching, retries, logging."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SinkConfig:
    """Batching, retry and fetch knobs of the sink."""

    # The latency bound: the rows of a message read are inserted at most this long after
    # (plus one insert in flight); the sink gathers rows for as long as the bound allows,
    # since large inserts cost ClickHouse least ...
    batch_wait_s: float = 1.0
    batch_rows: int = 1_000_000  # ... unless this many rows are pending (a memory cap)
    convert_events: int = 20_000  # read events held as decoded before their Arrow conversion
    fetch_messages: int = 512  # at most this many messages per pull ...
    fetch_bytes: int = 8_000_000  # ... and about this many bytes (a server-side slow
    # consumer gets disconnected: nats-server drops a client with ~64 MB pending)
    fetch_timeout_s: float = 0.25
    max_insert_rows: int = 500_000  # one insert = one part: stay under max_insert_block_size
    backoff_initial_s: float = 0.2
    backoff_max_s: float = 5.0
    rejected_attempts: int = 3  # a reachable server refusing an insert this often: quarantine
    log_every_s: float = 10.0
    metrics_every_s: float = 2.0  # how often `Sink(metrics_path=...)` rewrites its file
