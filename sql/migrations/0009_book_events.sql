-- Databento order-book venue events (schemas/book.py): one row per venue event of one
-- instrument, its records in feed order as one typed Array(Tuple) column. Prices Int64 at
-- 1e-9 (NULL where Databento leaves them undefined); MBP-10 levels best first per side.
-- Gaps also count the order-book events the ingest buffer lost.

CREATE TABLE IF NOT EXISTS mbo_events (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    ts_event DateTime64(9, 'UTC'),
    publisher_id UInt16,
    instrument_id UInt32,
    source LowCardinality(String),
    symbol LowCardinality(String),
    venue LowCardinality(String),
    sequence UInt64,
    records Array(Tuple(
        ts_event DateTime64(9, 'UTC'),
        sequence UInt64,
        action LowCardinality(String),
        side LowCardinality(String),
        price Nullable(Int64),
        size UInt32,
        order_id UInt64,
        flags UInt8
    )),
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, symbol, ts_recv, publisher_id, instrument_id, sequence);

CREATE TABLE IF NOT EXISTS mbp10_events (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    ts_event DateTime64(9, 'UTC'),
    publisher_id UInt16,
    instrument_id UInt32,
    source LowCardinality(String),
    symbol LowCardinality(String),
    venue LowCardinality(String),
    sequence UInt64,
    records Array(Tuple(
        ts_event DateTime64(9, 'UTC'),
        sequence UInt64,
        action LowCardinality(String),
        side LowCardinality(String),
        depth UInt8,
        price Nullable(Int64),
        size UInt32,
        flags UInt8,
        bids Array(Tuple(price Int64, size UInt32, orders UInt32)),
        asks Array(Tuple(price Int64, size UInt32, orders UInt32))
    )),
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, symbol, ts_recv, publisher_id, instrument_id, sequence);

ALTER TABLE gaps ADD COLUMN IF NOT EXISTS dropped_book_events UInt64 DEFAULT 0 AFTER dropped_trades;
