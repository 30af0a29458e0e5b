-- Crypto market data and provider-health events (schemas/crypto.py). Prices Int64 at 1e-9,
-- sizes Int64 at 1e-8, funding rates Int64 at 1e-9; book levels are parallel arrays.
-- `source` is the provider, `venue` the market, `epoch` the failover epoch.

CREATE TABLE IF NOT EXISTS crypto_trades (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    ts_event DateTime64(9, 'UTC'),
    publisher_id UInt16,
    instrument_id UInt32,
    source LowCardinality(String),
    symbol LowCardinality(String),
    venue LowCardinality(String),
    venue_symbol LowCardinality(String),
    sequence Int64,
    epoch UInt32,
    trade_id String,
    price Int64,
    size Int64,
    side LowCardinality(String),
    trade_count UInt32,
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, symbol, ts_recv, venue, sequence);

CREATE TABLE IF NOT EXISTS crypto_quotes (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    ts_event DateTime64(9, 'UTC'),
    publisher_id UInt16,
    instrument_id UInt32,
    source LowCardinality(String),
    symbol LowCardinality(String),
    venue LowCardinality(String),
    venue_symbol LowCardinality(String),
    sequence Int64,
    epoch UInt32,
    bid_px Int64,
    bid_sz Int64,
    ask_px Int64,
    ask_sz Int64,
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, symbol, ts_recv, venue, sequence);

CREATE TABLE IF NOT EXISTS crypto_book_updates (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    ts_event DateTime64(9, 'UTC'),
    publisher_id UInt16,
    instrument_id UInt32,
    source LowCardinality(String),
    symbol LowCardinality(String),
    venue LowCardinality(String),
    venue_symbol LowCardinality(String),
    sequence Int64,
    epoch UInt32,
    snapshot Bool,
    first_update_id Int64,
    prev_update_id Nullable(Int64),
    bid_px Array(Int64),
    bid_sz Array(Int64),
    ask_px Array(Int64),
    ask_sz Array(Int64),
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, symbol, ts_recv, venue, sequence);

CREATE TABLE IF NOT EXISTS crypto_mark_prices (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    ts_event DateTime64(9, 'UTC'),
    publisher_id UInt16,
    instrument_id UInt32,
    source LowCardinality(String),
    symbol LowCardinality(String),
    venue LowCardinality(String),
    venue_symbol LowCardinality(String),
    sequence Int64,
    epoch UInt32,
    mark_px Int64,
    index_px Nullable(Int64),
    funding_rate Nullable(Int64),
    ts_next_funding Nullable(DateTime64(9, 'UTC')),
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, symbol, ts_recv, venue, sequence);

CREATE TABLE IF NOT EXISTS provider_heartbeats (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    source LowCardinality(String),
    synthetic Bool,
    silence_ns Int64,
    epoch UInt32,
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, source, ts_recv);

CREATE TABLE IF NOT EXISTS provider_gaps (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    source LowCardinality(String),
    venue LowCardinality(String),
    symbol LowCardinality(String),
    reason LowCardinality(String),
    first_missed Nullable(Int64),
    last_missed Nullable(Int64),
    dropped Map(String, Int64),
    first_ts_recv Nullable(DateTime64(9, 'UTC')),
    last_ts_recv Nullable(DateTime64(9, 'UTC')),
    detail String,
    epoch UInt32,
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, source, ts_recv);

CREATE TABLE IF NOT EXISTS provider_switches (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    source LowCardinality(String),
    failover_group LowCardinality(String),
    from_source LowCardinality(String),
    to_source LowCardinality(String),
    reason String,
    epoch UInt32,
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, failover_group, ts_recv);
