-- The features engine's outputs (schemas/crypto.py CryptoFeatures, CryptoSignal), stored from
-- DERIVED. Prices Int64 at 1e-9, volumes Int64 at 1e-8, funding Int64 at 1e-9; ratios, basis
-- points and milliseconds Float64, NULL when the window held nothing to compute them from.

CREATE TABLE IF NOT EXISTS crypto_features (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    symbol LowCardinality(String),
    window_ns Int64,
    mid_px Nullable(Int64),
    spread_bps Nullable(Float64),
    vwap_px Nullable(Int64),
    ret_1s_bps Nullable(Float64),
    ret_5s_bps Nullable(Float64),
    ret_30s_bps Nullable(Float64),
    ret_60s_bps Nullable(Float64),
    realized_vol_bps Nullable(Float64),
    trade_count Int64,
    volume Int64,
    buy_volume Int64,
    sell_volume Int64,
    trade_imbalance Nullable(Float64),
    latency_ms Nullable(Float64),
    book_imbalance Nullable(Float64),
    quote_imbalance Nullable(Float64),
    funding_rate Nullable(Int64),
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, symbol, ts_recv);

CREATE TABLE IF NOT EXISTS crypto_signals (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    signal_id String,
    symbol LowCardinality(String),
    direction LowCardinality(String),
    rule LowCardinality(String),
    features Map(String, Float64),
    thresholds Map(String, Float64),
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, symbol, ts_recv, signal_id);
