-- CME Globex futures and options on futures (schemas/cme.py, Databento GLBX.MDP3): the
-- definitions, trades with their aggressor side, top-of-book quotes and exchange statistics
-- as the source gave them. Prices and strikes Int64 at 1e-9 (a future's may be negative),
-- NULL where Databento leaves them undefined; a definition's multiplier (its unit of measure
-- quantity) at 1e-9 too. The futures' depth is in mbp10_events. instrument_id is unique
-- within a day only: cme_instruments keys on (date, instrument_id).

CREATE TABLE IF NOT EXISTS cme_instruments (
    run_id LowCardinality(String),
    log_seq UInt64,
    date Date MATERIALIZED toDate(ts_recv),
    ts_recv DateTime64(9, 'UTC'),
    ts_event DateTime64(9, 'UTC'),
    publisher_id UInt16,
    instrument_id UInt32,
    source LowCardinality(String),
    symbol LowCardinality(String),
    instrument_class LowCardinality(String),
    asset LowCardinality(String),
    expiration DateTime64(9, 'UTC'),
    multiplier Int64,
    tick Nullable(Int64),
    cfi LowCardinality(String),
    strike_price Nullable(Int64),
    underlying_id Nullable(UInt32),
    underlying_symbol LowCardinality(String),
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, date, instrument_id, ts_recv);

CREATE TABLE IF NOT EXISTS cme_trades (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    ts_event DateTime64(9, 'UTC'),
    publisher_id UInt16,
    instrument_id UInt32,
    source LowCardinality(String),
    symbol LowCardinality(String),
    sequence UInt64,
    price Int64,
    size UInt32,
    side LowCardinality(String),
    flags UInt8,
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, symbol, ts_recv, instrument_id, sequence);

CREATE TABLE IF NOT EXISTS cme_quotes (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    ts_event DateTime64(9, 'UTC'),
    publisher_id UInt16,
    instrument_id UInt32,
    source LowCardinality(String),
    symbol LowCardinality(String),
    sequence UInt64,
    bid_px Nullable(Int64),
    ask_px Nullable(Int64),
    bid_sz UInt32,
    ask_sz UInt32,
    sampled Bool,
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, symbol, ts_recv, instrument_id, sequence);

CREATE TABLE IF NOT EXISTS cme_statistics (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    ts_event DateTime64(9, 'UTC'),
    publisher_id UInt16,
    instrument_id UInt32,
    source LowCardinality(String),
    symbol LowCardinality(String),
    sequence UInt64,
    stat_type UInt16,
    price Nullable(Int64),
    quantity Nullable(Int64),
    update_action UInt8,
    stat_flags UInt8,
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, symbol, ts_recv, stat_type, instrument_id, sequence);
