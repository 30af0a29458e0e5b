-- The slim derived tables (schemas/derived_tables.py is their Arrow contract).
--
-- The print key is (run_id, instrument_id, publisher_id, ts_event, sequence): the fields by
-- which a packet member, a hit's evidence, a label and a packet id name a print. option_prints
-- holds the same columns, so a print's symbol, price, size and receive time are read by
-- joining option_prints on the key; print_inference repeats none of them.
-- - print_inference: per print the engine's reading (side, bucket, rule, confidence), the
--   NBBO status and the quote it looked at, the right and the premium in cents; partitioned
--   by the day of ts_event (it holds no receive time).
-- - flow_packets and packet_prints: only the packets worth a row (more than one print,
--   blocks, multi-leg orders, packets a hit or an alert names). A lone print is a single told
--   by its print_inference row alone: no packet_prints row names it, and its packet id is
--   make_id('flow_packet', run_id, instrument_id, publisher_id, ts_event, sequence).
--   Legs are typed tuples and bucket counts columns; packet_prints rows are the key only.
-- - Candle views keep 1-minute rows only: coarser frames roll up from them, 1 s candles are
--   computed from the prints when asked.
-- Stored rows are converted (lone unflagged singles dropped), and the views fed by the
-- rebuilt tables are recreated with their target tables refilled from them. Running this
-- again converts the slim tables into themselves: the columns of either layout are added
-- to the table being read (ADD COLUMN IF NOT EXISTS) and the conversion takes the filled ones.

DROP VIEW IF EXISTS net_premium_minute_mv;

DROP VIEW IF EXISTS flow_daily_packets_mv;

ALTER TABLE print_inference
    ADD COLUMN IF NOT EXISTS symbol String,
    ADD COLUMN IF NOT EXISTS price Int64,
    ADD COLUMN IF NOT EXISTS size UInt32,
    ADD COLUMN IF NOT EXISTS right LowCardinality(String),
    ADD COLUMN IF NOT EXISTS premium_cents Int64;

DROP TABLE IF EXISTS print_inference_0008;

CREATE TABLE print_inference_0008 (
    run_id LowCardinality(String),
    log_seq UInt64,
    instrument_id UInt32,
    publisher_id UInt16,
    ts_event DateTime64(9, 'UTC'),
    sequence UInt64,
    underlying LowCardinality(String),
    right LowCardinality(String),
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
    premium_cents Int64,
    late Bool
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_event))
ORDER BY (run_id, underlying, ts_event, instrument_id, publisher_id, sequence);

INSERT INTO print_inference_0008
SELECT
    run_id, log_seq, instrument_id, publisher_id, ts_event, sequence, underlying,
    if(symbol = '', right, if(substring(symbol, -9, 1) = 'P', 'P', 'C')) AS right,
    side, bucket, rule, confidence, nbbo_status, nbbo_bid_px, nbbo_ask_px, nbbo_bid_sz,
    nbbo_ask_sz, nbbo_ts_recv,
    if(symbol = '', premium_cents, toInt64(intDiv(toInt128(price) * size, 100000)))
        AS premium_cents,
    late
FROM print_inference;

DROP TABLE IF EXISTS print_inference;

RENAME TABLE print_inference_0008 TO print_inference;

ALTER TABLE flow_packets
    ADD COLUMN IF NOT EXISTS bucket_counts Map(String, UInt32),
    ADD COLUMN IF NOT EXISTS bucket_aa UInt32,
    ADD COLUMN IF NOT EXISTS bucket_a UInt32,
    ADD COLUMN IF NOT EXISTS bucket_m UInt32,
    ADD COLUMN IF NOT EXISTS bucket_b UInt32,
    ADD COLUMN IF NOT EXISTS bucket_bb UInt32,
    ADD COLUMN IF NOT EXISTS bucket_na UInt32;

DROP TABLE IF EXISTS flow_packets_0008;

CREATE TABLE flow_packets_0008 (
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
    legs Array(Tuple(
        instrument_id UInt32,
        symbol String,
        right String,
        strike_price Int64,
        expiration_date UInt32,
        side String,
        size UInt64,
        premium_cents Int64,
        n_prints UInt32,
        venues Array(UInt16),
        vwap_px Int64,
        ratio UInt32,
        moneyness Nullable(Float64),
        dte Nullable(Int32),
        day_volume UInt64,
        open_interest Nullable(UInt64))),
    bucket_aa UInt32,
    bucket_a UInt32,
    bucket_m UInt32,
    bucket_b UInt32,
    bucket_bb UInt32,
    bucket_na UInt32,
    aggressor_ratio Float64,
    nbbo_coverage Float64,
    spot_px Nullable(Int64),
    late Bool
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_start))
ORDER BY (run_id, underlying, ts_start, packet_id);

INSERT INTO flow_packets_0008
SELECT
    run_id, log_seq, packet_id, kind, structure, underlying, ts_start, ts_end, ts_recv, side,
    premium_cents, size, n_prints, venues, price_levels,
    if(toTypeName(legs) = 'String',
       JSONExtract(toString(legs), 'Array(Tuple(instrument_id UInt32, symbol String,
           right String, strike_price Int64, expiration_date UInt32, side String,
           size UInt64, premium_cents Int64, n_prints UInt32, venues Array(UInt16),
           vwap_px Int64, ratio UInt32, moneyness Nullable(Float64),
           dte Nullable(Int32), day_volume UInt64, open_interest Nullable(UInt64)))'),
       CAST(toString(legs), 'Array(Tuple(instrument_id UInt32, symbol String,
           right String, strike_price Int64, expiration_date UInt32, side String,
           size UInt64, premium_cents Int64, n_prints UInt32, venues Array(UInt16),
           vwap_px Int64, ratio UInt32, moneyness Nullable(Float64),
           dte Nullable(Int32), day_volume UInt64, open_interest Nullable(UInt64)))')) AS legs,
    bucket_aa + bucket_counts['AA'], bucket_a + bucket_counts['A'],
    bucket_m + bucket_counts['M'], bucket_b + bucket_counts['B'],
    bucket_bb + bucket_counts['BB'], bucket_na + bucket_counts['NA'],
    aggressor_ratio, nbbo_coverage, spot_px, late
FROM flow_packets
WHERE kind != 'single' OR n_prints > 1
   OR (run_id, packet_id) IN (SELECT run_id, packet_id FROM classifier_hits
                              UNION ALL SELECT run_id, packet_id FROM alerts);

DROP TABLE IF EXISTS packet_prints_0008;

CREATE TABLE packet_prints_0008 (
    run_id LowCardinality(String),
    log_seq UInt64,
    packet_id String,
    ts_start DateTime64(9, 'UTC'),
    instrument_id UInt32,
    publisher_id UInt16,
    ts_event DateTime64(9, 'UTC'),
    sequence UInt64
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(ts_start))
ORDER BY (run_id, packet_id, ts_event, publisher_id, instrument_id, sequence);

INSERT INTO packet_prints_0008
SELECT run_id, log_seq, packet_id, ts_start, instrument_id, publisher_id, ts_event, sequence
FROM packet_prints
WHERE (run_id, packet_id) IN (SELECT run_id, packet_id FROM flow_packets_0008);

DROP TABLE IF EXISTS flow_packets;

RENAME TABLE flow_packets_0008 TO flow_packets;

DROP TABLE IF EXISTS packet_prints;

RENAME TABLE packet_prints_0008 TO packet_prints;

-- Net premium per minute (of ts_event) by right and inferred side, from print_inference alone.
TRUNCATE TABLE IF EXISTS net_premium_minute;

INSERT INTO net_premium_minute
SELECT
    run_id,
    underlying,
    toDateTime(intDiv(toUnixTimestamp(ts_event), 60) * 60, 'UTC') AS minute,
    count() AS prints,
    sumIf(premium_cents, right = 'C' AND side = 'buy') AS call_buy_cents,
    sumIf(premium_cents, right = 'C' AND side = 'sell') AS call_sell_cents,
    sumIf(premium_cents, right = 'C' AND side NOT IN ('buy', 'sell')) AS call_unknown_cents,
    sumIf(premium_cents, right = 'P' AND side = 'buy') AS put_buy_cents,
    sumIf(premium_cents, right = 'P' AND side = 'sell') AS put_sell_cents,
    sumIf(premium_cents, right = 'P' AND side NOT IN ('buy', 'sell')) AS put_unknown_cents
FROM print_inference
GROUP BY run_id, underlying, minute;

CREATE MATERIALIZED VIEW IF NOT EXISTS net_premium_minute_mv TO net_premium_minute AS
SELECT
    run_id,
    underlying,
    toDateTime(intDiv(toUnixTimestamp(ts_event), 60) * 60, 'UTC') AS minute,
    count() AS prints,
    sumIf(premium_cents, right = 'C' AND side = 'buy') AS call_buy_cents,
    sumIf(premium_cents, right = 'C' AND side = 'sell') AS call_sell_cents,
    sumIf(premium_cents, right = 'C' AND side NOT IN ('buy', 'sell')) AS call_unknown_cents,
    sumIf(premium_cents, right = 'P' AND side = 'buy') AS put_buy_cents,
    sumIf(premium_cents, right = 'P' AND side = 'sell') AS put_sell_cents,
    sumIf(premium_cents, right = 'P' AND side NOT IN ('buy', 'sell')) AS put_unknown_cents
FROM print_inference
GROUP BY run_id, underlying, minute;

-- flow_daily counts the stored packets (lone singles are not among them), refilled whole.
TRUNCATE TABLE IF EXISTS flow_daily;

INSERT INTO flow_daily (run_id, underlying, date, packets, packet_premium_cents, sweeps,
                        sweep_premium_cents, blocks, multi_leg)
SELECT
    run_id,
    underlying,
    toDate(ts_start) AS date,
    count() AS packets,
    sum(premium_cents) AS packet_premium_cents,
    countIf(kind = 'sweep') AS sweeps,
    sumIf(premium_cents, kind = 'sweep') AS sweep_premium_cents,
    countIf(kind = 'block') AS blocks,
    countIf(kind = 'multi_leg') AS multi_leg
FROM flow_packets
GROUP BY run_id, underlying, date;

INSERT INTO flow_daily (run_id, underlying, date, hits)
SELECT run_id, underlying, toDate(ts_event) AS date, count() AS hits
FROM classifier_hits
GROUP BY run_id, underlying, date;

INSERT INTO flow_daily (run_id, underlying, date, alerts, max_alert_severity)
SELECT run_id, underlying, toDate(ts_event) AS date, count() AS alerts,
       max(severity) AS max_alert_severity
FROM alerts
GROUP BY run_id, underlying, date;

CREATE MATERIALIZED VIEW IF NOT EXISTS flow_daily_packets_mv TO flow_daily AS
SELECT
    run_id,
    underlying,
    toDate(ts_start) AS date,
    count() AS packets,
    sum(premium_cents) AS packet_premium_cents,
    countIf(kind = 'sweep') AS sweeps,
    sumIf(premium_cents, kind = 'sweep') AS sweep_premium_cents,
    countIf(kind = 'block') AS blocks,
    countIf(kind = 'multi_leg') AS multi_leg
FROM flow_packets
GROUP BY run_id, underlying, date;

-- Candles: 1-minute rows only.
DROP VIEW IF EXISTS candles_contract_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS candles_contract_mv TO candles_contract AS
SELECT
    run_id,
    toUInt32(60) AS interval_s,
    underlying,
    symbol,
    toDateTime(intDiv(toUnixTimestamp(ts_recv), 60) * 60, 'UTC') AS bucket,
    min((ts_recv, publisher_id, instrument_id, sequence, price)) AS open,
    max(price) AS high,
    min(price) AS low,
    max((ts_recv, publisher_id, instrument_id, sequence, price)) AS close,
    sum(toUInt64(size)) AS volume,
    count() AS trades,
    sum(toInt64(intDiv(toInt128(price) * size, 100000))) AS premium_cents
FROM option_prints
GROUP BY run_id, underlying, symbol, bucket;

ALTER TABLE candles_contract DELETE WHERE interval_s != 60 SETTINGS mutations_sync = 1;

DROP VIEW IF EXISTS candles_underlying_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS candles_underlying_mv TO candles_underlying AS
SELECT
    run_id,
    toUInt32(60) AS interval_s,
    underlying,
    toDateTime(intDiv(toUnixTimestamp(ts_recv), 60) * 60, 'UTC') AS bucket,
    count() AS trades,
    sum(toUInt64(size)) AS volume,
    sum(toInt64(intDiv(toInt128(price) * size, 100000))) AS premium_cents,
    sumIf(toUInt64(size), substring(symbol, -9, 1) = 'C') AS call_volume,
    sumIf(toUInt64(size), substring(symbol, -9, 1) = 'P') AS put_volume,
    sumIf(toInt64(intDiv(toInt128(price) * size, 100000)), substring(symbol, -9, 1) = 'C')
        AS call_premium_cents,
    sumIf(toInt64(intDiv(toInt128(price) * size, 100000)), substring(symbol, -9, 1) = 'P')
        AS put_premium_cents
FROM option_prints
GROUP BY run_id, underlying, bucket;

ALTER TABLE candles_underlying DELETE WHERE interval_s != 60 SETTINGS mutations_sync = 1;

DROP VIEW IF EXISTS candles_equity_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS candles_equity_mv TO candles_equity AS
SELECT
    run_id,
    toUInt32(60) AS interval_s,
    symbol,
    toDateTime(intDiv(toUnixTimestamp(ts_recv), 60) * 60, 'UTC') AS bucket,
    min((ts_recv, publisher_id, sequence, price)) AS open,
    max(price) AS high,
    min(price) AS low,
    max((ts_recv, publisher_id, sequence, price)) AS close,
    sum(toUInt64(size)) AS volume,
    sumIf(toUInt64(size), off_exchange) AS off_exchange_volume,
    count() AS trades
FROM equity_prints
GROUP BY run_id, symbol, bucket;

ALTER TABLE candles_equity DELETE WHERE interval_s != 60 SETTINGS mutations_sync = 1;
