-- The alpha engine's frames (schemas/cme.py AlphaFrame), stored from DERIVED or by a replay:
-- one row per root and emit instant. Prices Int64 at 1e-9, vols decimal Float64, rr25 and
-- the term slope in vol points; the expiries are typed tuples, front first (never JSON).

CREATE TABLE IF NOT EXISTS alpha_frames (
    run_id LowCardinality(String),
    log_seq UInt64,
    ts_recv DateTime64(9, 'UTC'),
    frame_id String,
    root LowCardinality(String),
    front_symbol LowCardinality(String),
    cme_fwd_mid Nullable(Int64),
    atm_iv Nullable(Float64),
    rr25 Nullable(Float64),
    iv_term_slope Nullable(Float64),
    skew_signal Nullable(Float64),
    signed_flow_10 Int64,
    trades_10 Int64,
    imb_5 Nullable(Float64),
    book_levels Int64,
    funding Nullable(Int64),
    health LowCardinality(String),
    health_reason String,
    expiries Array(Tuple(
        expiration DateTime64(9, 'UTC'),
        underlying_symbol LowCardinality(String),
        time_to_expiry Float64,
        forward Nullable(Int64),
        forward_strikes Int64,
        atm_iv Nullable(Float64),
        call25_iv Nullable(Float64),
        put25_iv Nullable(Float64),
        rr25 Nullable(Float64),
        iv_strikes Int64,
        fresh_strikes Int64,
        max_quote_age_ms Nullable(Int64),
        iv_rejected Int64,
        underlying_mid Nullable(Int64)
    )),
    schema_version UInt16
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_recv))
ORDER BY (run_id, root, ts_recv);
