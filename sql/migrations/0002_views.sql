-- Analytics views over the stored events: candles, per-minute net premium, per-contract day
-- volume against open interest, and flow per underlying per day. Every target table starts
-- its ORDER BY with run_id. Materialised views count each row inserted into their source
-- table once; the sink inserts every row exactly once, so the views are exact. They cover
-- rows inserted after this migration ran (no backfill of older rows).
--
-- Candles bucket prints by ts_recv (the canonical order's clock) into intervals of
-- interval_s seconds aligned to the epoch (so 1 d = UTC day, 4 h = 00/04/08/.. UTC).
-- Open and close are the first and last print in canonical order; premium is in integer
-- cents: price (1e-9 dollars) x size x 100 shares per contract.

CREATE TABLE IF NOT EXISTS candles_contract (
    run_id LowCardinality(String),
    interval_s UInt32,
    underlying LowCardinality(String),
    symbol String,
    bucket DateTime('UTC'),
    open AggregateFunction(argMin, Int64, Tuple(DateTime64(9, 'UTC'), UInt16, UInt32, UInt64)),
    high SimpleAggregateFunction(max, Int64),
    low SimpleAggregateFunction(min, Int64),
    close AggregateFunction(argMax, Int64, Tuple(DateTime64(9, 'UTC'), UInt16, UInt32, UInt64)),
    volume SimpleAggregateFunction(sum, UInt64),
    trades SimpleAggregateFunction(sum, UInt64),
    premium_cents SimpleAggregateFunction(sum, Int64)
) ENGINE = AggregatingMergeTree
PARTITION BY (run_id, toYYYYMM(bucket))
ORDER BY (run_id, interval_s, underlying, symbol, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS candles_contract_mv TO candles_contract AS
SELECT
    run_id,
    interval_s,
    underlying,
    symbol,
    toDateTime(intDiv(toUnixTimestamp(ts_recv), interval_s) * interval_s, 'UTC') AS bucket,
    argMinState(price, (ts_recv, publisher_id, instrument_id, sequence)) AS open,
    max(price) AS high,
    min(price) AS low,
    argMaxState(price, (ts_recv, publisher_id, instrument_id, sequence)) AS close,
    sum(toUInt64(size)) AS volume,
    count() AS trades,
    sum(toInt64(intDiv(toInt128(price) * size, 100000))) AS premium_cents
FROM option_prints
ARRAY JOIN [1, 60, 300, 3600, 14400, 86400] AS interval_s
GROUP BY run_id, interval_s, underlying, symbol, bucket;

-- Option activity per underlying (OHLC across contracts means nothing; the underlying's
-- price candles are candles_equity). The right is the OCC symbol's 9th character from the end.
CREATE TABLE IF NOT EXISTS candles_underlying (
    run_id LowCardinality(String),
    interval_s UInt32,
    underlying LowCardinality(String),
    bucket DateTime('UTC'),
    trades UInt64,
    volume UInt64,
    premium_cents Int64,
    call_volume UInt64,
    put_volume UInt64,
    call_premium_cents Int64,
    put_premium_cents Int64
) ENGINE = SummingMergeTree
PARTITION BY (run_id, toYYYYMM(bucket))
ORDER BY (run_id, interval_s, underlying, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS candles_underlying_mv TO candles_underlying AS
SELECT
    run_id,
    interval_s,
    underlying,
    toDateTime(intDiv(toUnixTimestamp(ts_recv), interval_s) * interval_s, 'UTC') AS bucket,
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
ARRAY JOIN [1, 60, 300, 3600, 14400, 86400] AS interval_s
GROUP BY run_id, interval_s, underlying, bucket;

-- The underlying's own price candles, from every equity print (lit and off-exchange).
CREATE TABLE IF NOT EXISTS candles_equity (
    run_id LowCardinality(String),
    interval_s UInt32,
    symbol LowCardinality(String),
    bucket DateTime('UTC'),
    open AggregateFunction(argMin, Int64, Tuple(DateTime64(9, 'UTC'), UInt16, UInt64)),
    high SimpleAggregateFunction(max, Int64),
    low SimpleAggregateFunction(min, Int64),
    close AggregateFunction(argMax, Int64, Tuple(DateTime64(9, 'UTC'), UInt16, UInt64)),
    volume SimpleAggregateFunction(sum, UInt64),
    off_exchange_volume SimpleAggregateFunction(sum, UInt64),
    trades SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY (run_id, toYYYYMM(bucket))
ORDER BY (run_id, interval_s, symbol, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS candles_equity_mv TO candles_equity AS
SELECT
    run_id,
    interval_s,
    symbol,
    toDateTime(intDiv(toUnixTimestamp(ts_recv), interval_s) * interval_s, 'UTC') AS bucket,
    argMinState(price, (ts_recv, publisher_id, sequence)) AS open,
    max(price) AS high,
    min(price) AS low,
    argMaxState(price, (ts_recv, publisher_id, sequence)) AS close,
    sum(toUInt64(size)) AS volume,
    sumIf(toUInt64(size), off_exchange) AS off_exchange_volume,
    count() AS trades
FROM equity_prints
ARRAY JOIN [1, 60, 300, 3600, 14400, 86400] AS interval_s
GROUP BY run_id, interval_s, symbol, bucket;

-- Premium per minute per underlying by right and inferred aggressor side (print_inference).
-- Net call premium = call_buy_cents - call_sell_cents; unknown sides are kept apart.
CREATE TABLE IF NOT EXISTS net_premium_minute (
    run_id LowCardinality(String),
    underlying LowCardinality(String),
    minute DateTime('UTC'),
    prints UInt64,
    call_buy_cents Int64,
    call_sell_cents Int64,
    call_unknown_cents Int64,
    put_buy_cents Int64,
    put_sell_cents Int64,
    put_unknown_cents Int64
) ENGINE = SummingMergeTree
PARTITION BY (run_id, toYYYYMM(minute))
ORDER BY (run_id, underlying, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS net_premium_minute_mv TO net_premium_minute AS
SELECT
    run_id,
    underlying,
    toDateTime(intDiv(toUnixTimestamp(ts_recv), 60) * 60, 'UTC') AS minute,
    count() AS prints,
    sumIf(cents, is_call AND side = 'buy') AS call_buy_cents,
    sumIf(cents, is_call AND side = 'sell') AS call_sell_cents,
    sumIf(cents, is_call AND side NOT IN ('buy', 'sell')) AS call_unknown_cents,
    sumIf(cents, NOT is_call AND side = 'buy') AS put_buy_cents,
    sumIf(cents, NOT is_call AND side = 'sell') AS put_sell_cents,
    sumIf(cents, NOT is_call AND side NOT IN ('buy', 'sell')) AS put_unknown_cents
FROM (
    SELECT
        run_id, underlying, ts_recv, side,
        substring(symbol, -9, 1) = 'C' AS is_call,
        toInt64(intDiv(toInt128(price) * size, 100000)) AS cents
    FROM print_inference
)
GROUP BY run_id, underlying, minute;

-- Open interest per contract per day: the latest value reported that day (venues repeat it).
CREATE TABLE IF NOT EXISTS contract_oi_daily (
    run_id LowCardinality(String),
    date Date,
    underlying LowCardinality(String),
    symbol String,
    open_interest AggregateFunction(argMax, UInt64, DateTime64(9, 'UTC'))
) ENGINE = AggregatingMergeTree
PARTITION BY (run_id, toYYYYMM(date))
ORDER BY (run_id, date, underlying, symbol);

CREATE MATERIALIZED VIEW IF NOT EXISTS contract_oi_daily_mv TO contract_oi_daily AS
SELECT
    run_id,
    toDate(ts_recv) AS date,
    underlying,
    symbol,
    argMaxState(open_interest, ts_recv) AS open_interest
FROM open_interest
GROUP BY run_id, date, underlying, symbol;

-- Day volume of each contract next to its open interest (a plain view over the two).
CREATE VIEW IF NOT EXISTS contract_volume_vs_oi AS
SELECT
    v.run_id AS run_id,
    v.date AS date,
    v.underlying AS underlying,
    v.symbol AS symbol,
    v.volume AS volume,
    v.trades AS trades,
    v.premium_cents AS premium_cents,
    if(oi.symbol = '', NULL, oi.open_interest) AS open_interest,
    if(oi.symbol = '' OR oi.open_interest = 0, NULL, round(v.volume / oi.open_interest, 4))
        AS volume_oi_ratio
FROM (
    SELECT run_id, toDate(bucket) AS date, underlying, symbol,
           sum(volume) AS volume, sum(trades) AS trades, sum(premium_cents) AS premium_cents
    FROM candles_contract
    WHERE interval_s = 86400
    GROUP BY run_id, date, underlying, symbol
) AS v
LEFT JOIN (
    SELECT run_id, date, symbol, argMaxMerge(open_interest) AS open_interest
    FROM contract_oi_daily
    GROUP BY run_id, date, symbol
) AS oi ON oi.run_id = v.run_id AND oi.date = v.date AND oi.symbol = v.symbol;

-- Flow per underlying per day: packets, sweeps, blocks, hits and alerts.
CREATE TABLE IF NOT EXISTS flow_daily (
    run_id LowCardinality(String),
    underlying LowCardinality(String),
    date Date,
    packets SimpleAggregateFunction(sum, UInt64),
    packet_premium_cents SimpleAggregateFunction(sum, Int64),
    sweeps SimpleAggregateFunction(sum, UInt64),
    sweep_premium_cents SimpleAggregateFunction(sum, Int64),
    blocks SimpleAggregateFunction(sum, UInt64),
    multi_leg SimpleAggregateFunction(sum, UInt64),
    hits SimpleAggregateFunction(sum, UInt64),
    alerts SimpleAggregateFunction(sum, UInt64),
    max_alert_severity SimpleAggregateFunction(max, UInt8)
) ENGINE = AggregatingMergeTree
PARTITION BY (run_id, toYYYYMM(date))
ORDER BY (run_id, underlying, date);

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

CREATE MATERIALIZED VIEW IF NOT EXISTS flow_daily_hits_mv TO flow_daily AS
SELECT run_id, underlying, toDate(ts_event) AS date, count() AS hits
FROM classifier_hits
GROUP BY run_id, underlying, date;

CREATE MATERIALIZED VIEW IF NOT EXISTS flow_daily_alerts_mv TO flow_daily AS
SELECT
    run_id,
    underlying,
    toDate(ts_event) AS date,
    count() AS alerts,
    max(severity) AS max_alert_severity
FROM alerts
GROUP BY run_id, underlying, date;
