-- Event tables. Every table starts its ORDER BY with run_id and is partitioned by
-- (run_id, day): deleting a run drops partitions, live rows never meet replay rows.
-- log_seq is the JetStream stream sequence of the message a row came in (0 for rows a
-- replay wrote directly); the sink resumes each table from its largest log_seq.

CREATE TABLE IF NOT EXISTS contracts (
    run_id LowCardinality(String),
    log_seq UInt64,
    date Date MATERIALIZED toDate(ts_recv),
    ts_recv DateTime64(9, 'UTC'),
    ts_event DateTime64(9, 'UTC'),
    publisher_id UInt16,
    instrument_id UInt32,
    source LowCardinality(String),
    symbol String,
    underlying LowCardinality(String),
    right LowCardinality(String),
    strike_price Int64,
    expiration Nullable(DateTime64(9, 'UTC')),
    multiplier UInt32,
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, date, instrument_id, ts_recv);

CREATE TABLE IF NOT EXISTS option_prints (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    ts_event DateTime64(9, 'UTC'),
    publisher_id UInt16,
    instrument_id UInt32,
    sequence UInt64,
    source LowCardinality(String),
    symbol String,
    underlying LowCardinality(String),
    price Int64,
    size UInt32,
    side LowCardinality(String),
    flags UInt8,
    coarse Bool,
    bid_px Nullable(Int64),
    ask_px Nullable(Int64),
    bid_sz Nullable(UInt32),
    ask_sz Nullable(UInt32),
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, underlying, ts_recv, publisher_id, instrument_id, sequence);

CREATE TABLE IF NOT EXISTS option_quotes (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    ts_event DateTime64(9, 'UTC'),
    publisher_id UInt16,
    instrument_id UInt32,
    sequence UInt64,
    source LowCardinality(String),
    symbol String,
    underlying LowCardinality(String),
    bid_px Nullable(Int64),
    ask_px Nullable(Int64),
    bid_sz UInt32,
    ask_sz UInt32,
    bid_pb Nullable(UInt16),
    ask_pb Nullable(UInt16),
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, underlying, ts_recv, instrument_id, sequence);

CREATE TABLE IF NOT EXISTS equity_prints (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    ts_event DateTime64(9, 'UTC'),
    publisher_id UInt16,
    instrument_id UInt32,
    sequence UInt64,
    source LowCardinality(String),
    symbol LowCardinality(String),
    venue LowCardinality(String),
    off_exchange Bool,
    price Int64,
    size UInt32,
    side LowCardinality(String),
    flags UInt8,
    bid_px Nullable(Int64),
    ask_px Nullable(Int64),
    bid_sz Nullable(UInt32),
    ask_sz Nullable(UInt32),
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, symbol, ts_recv, publisher_id, sequence);

CREATE TABLE IF NOT EXISTS equity_quotes (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    ts_event DateTime64(9, 'UTC'),
    publisher_id UInt16,
    instrument_id UInt32,
    sequence UInt64,
    source LowCardinality(String),
    symbol LowCardinality(String),
    venue LowCardinality(String),
    bid_px Nullable(Int64),
    ask_px Nullable(Int64),
    bid_sz UInt32,
    ask_sz UInt32,
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, symbol, ts_recv, publisher_id, sequence);

CREATE TABLE IF NOT EXISTS open_interest (
    run_id LowCardinality(String),
    log_seq UInt64,
    date Date MATERIALIZED toDate(ts_recv),
    ts_recv DateTime64(9, 'UTC'),
    ts_event DateTime64(9, 'UTC'),
    publisher_id UInt16,
    instrument_id UInt32,
    sequence UInt64,
    source LowCardinality(String),
    symbol String,
    underlying LowCardinality(String),
    open_interest UInt64,
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, date, instrument_id, ts_recv);

CREATE TABLE IF NOT EXISTS gaps (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    source LowCardinality(String),
    dropped_trades UInt64,
    first_ts_recv DateTime64(9, 'UTC'),
    last_ts_recv DateTime64(9, 'UTC'),
    reason String,
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, source, ts_recv);

CREATE TABLE IF NOT EXISTS quarantine (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    source LowCardinality(String),
    reason LowCardinality(String),
    detail String,
    payload String,
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, source, ts_recv);

CREATE TABLE IF NOT EXISTS print_inference (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    ts_event DateTime64(9, 'UTC'),
    publisher_id UInt16,
    instrument_id UInt32,
    sequence UInt64,
    symbol String,
    underlying LowCardinality(String),
    price Int64,
    size UInt32,
    side LowCardinality(String),
    bucket LowCardinality(String),
    rule LowCardinality(String),
    confidence Float64,
    nbbo_status LowCardinality(String),
    nbbo_bid_px Nullable(Int64),
    nbbo_ask_px Nullable(Int64),
    nbbo_bid_sz Nullable(UInt32),
    nbbo_ask_sz Nullable(UInt32),
    nbbo_ts_recv Nullable(DateTime64(9, 'UTC')),
    late Bool,
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, underlying, ts_recv, publisher_id, instrument_id, sequence);

CREATE TABLE IF NOT EXISTS flow_packets (
    run_id LowCardinality(String),
    log_seq UInt64,
    packet_id String,
    kind LowCardinality(String),
    structure LowCardinality(String),
    underlying LowCardinality(String),
    ts_start DateTime64(9, 'UTC'),
    ts_end DateTime64(9, 'UTC'),
    ts_recv DateTime64(9, 'UTC'),
    side LowCardinality(String),
    premium_cents Int64,
    size UInt64,
    n_prints UInt32,
    venues Array(UInt16),
    price_levels UInt32,
    legs String,
    bucket_counts Map(String, UInt32),
    aggressor_ratio Float64,
    nbbo_coverage Float64,
    spot_px Nullable(Int64),
    late Bool,
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_start))
ORDER BY (run_id, underlying, ts_start, packet_id);

CREATE TABLE IF NOT EXISTS packet_prints (
    run_id LowCardinality(String),
    log_seq UInt64,
    packet_id String,
    underlying LowCardinality(String),
    ts_start DateTime64(9, 'UTC'),
    instrument_id UInt32,
    publisher_id UInt16,
    ts_event DateTime64(9, 'UTC'),
    sequence UInt64,
    price Int64,
    size UInt32,
    side LowCardinality(String),
    bucket LowCardinality(String),
    nbbo_bid_px Nullable(Int64),
    nbbo_ask_px Nullable(Int64)
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_start))
ORDER BY (run_id, packet_id, ts_event, publisher_id, instrument_id, sequence);

CREATE TABLE IF NOT EXISTS classifier_hits (
    run_id LowCardinality(String),
    log_seq UInt64,
    hit_id String,
    packet_id String,
    rule LowCardinality(String),
    ts_event DateTime64(9, 'UTC'),
    ts_recv DateTime64(9, 'UTC'),
    underlying LowCardinality(String),
    packet_kind LowCardinality(String),
    premium_cents Int64,
    size UInt64,
    score Float64,
    thresholds Map(String, Float64),
    baselines String,
    members String,
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_event))
ORDER BY (run_id, underlying, ts_event, hit_id);

CREATE TABLE IF NOT EXISTS alerts (
    run_id LowCardinality(String),
    log_seq UInt64,
    alert_id String,
    packet_id String,
    ts_event DateTime64(9, 'UTC'),
    ts_recv DateTime64(9, 'UTC'),
    underlying LowCardinality(String),
    severity UInt8,
    score Float64,
    rules Array(LowCardinality(String)),
    hit_ids Array(String),
    title String,
    thresholds Map(String, Float64),
    baselines String,
    members String,
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_event))
ORDER BY (run_id, underlying, ts_event, alert_id);

CREATE TABLE IF NOT EXISTS darkpool_events (
    run_id LowCardinality(String),
    log_seq UInt64,
    event_id String,
    kind LowCardinality(String),
    symbol LowCardinality(String),
    ts_start DateTime64(9, 'UTC'),
    ts_end DateTime64(9, 'UTC'),
    ts_recv DateTime64(9, 'UTC'),
    size UInt64,
    notional_cents Int64,
    n_prints UInt32,
    price_impact_bps Nullable(Float64),
    confidence Float64,
    prints String,
    quotes String,
    caveats String,
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_start))
ORDER BY (run_id, symbol, ts_start, event_id);

CREATE TABLE IF NOT EXISTS runs (
    run_id String,
    kind LowCardinality(String),
    description String,
    params String,
    status LowCardinality(String),
    created_at DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(updated_at)
ORDER BY run_id;
