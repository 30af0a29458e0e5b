"""The sink: JetStream RAW and DERIVED into ClickHouse, exactly once, in large Arrow batches,
without relying on insert deduplication.

- `positions`: the exactly-once rule (which rows of a message the tables already hold)
- `consumer`: one stream into ClickHouse (read, convert, batch, insert with retries, quarantine)
- `service`: `Sink` over both streams with its metrics file; `run_sink` for `flowtape sink`
- `retention`: a TTL per table from the settings
- `config`, `metrics`, `errors`: the knobs, the figures, the error type
"""
