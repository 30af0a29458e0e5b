-- Option activity per underlying per interval (1s, 1m, 5m, 1h, 4h, 1d): trades, contracts,
-- premium split by calls and puts, next to the underlying's own price candle. 1m and longer
-- are rolled up from the stored 1-minute rows, 1s is computed from the prints.
-- default: run_id = live
-- default: interval = 5m
-- default: day =
WITH transform({interval:String}, ['1s', '1m', '5m', '1h', '4h', '1d'],
               [1, 60, 300, 3600, 14400, 86400], 0) AS seconds
SELECT
    o.bucket AS bucket,
    o.trades AS trades,
    o.volume AS volume,
    o.premium_cents AS premium_cents,
    o.call_volume AS call_volume,
    o.put_volume AS put_volume,
    o.call_premium_cents AS call_premium_cents,
    o.put_premium_cents AS put_premium_cents,
    e.open AS spot_open,
    e.high AS spot_high,
    e.low AS spot_low,
    e.close AS spot_close,
    e.volume AS spot_volume
FROM (
    SELECT toDateTime(intDiv(toUnixTimestamp(bucket), seconds) * seconds, 'UTC') AS bucket,
           sum(trades) AS trades, sum(volume) AS volume,
           sum(premium_cents) AS premium_cents, sum(call_volume) AS call_volume,
           sum(put_volume) AS put_volume, sum(call_premium_cents) AS call_premium_cents,
           sum(put_premium_cents) AS put_premium_cents
    FROM candles_underlying
    WHERE run_id = {run_id:String}
      AND interval_s = throwIf(seconds = 0, 'interval must be 1s, 1m, 5m, 1h, 4h or 1d') + 60
      AND seconds >= 60
      AND underlying = {underlying:String}
      AND ({day:String} = '' OR toString(toDate(bucket)) = {day:String})
    GROUP BY bucket

    UNION ALL

    SELECT toDateTime(toUnixTimestamp(ts_recv), 'UTC') AS bucket,
           toUInt64(count()) AS trades, sum(toUInt64(size)) AS volume,
           sum(toInt64(intDiv(toInt128(price) * size, 100000))) AS premium_cents,
           sumIf(toUInt64(size), substring(symbol, -9, 1) = 'C') AS call_volume,
           sumIf(toUInt64(size), substring(symbol, -9, 1) = 'P') AS put_volume,
           sumIf(toInt64(intDiv(toInt128(price) * size, 100000)), substring(symbol, -9, 1) = 'C')
               AS call_premium_cents,
           sumIf(toInt64(intDiv(toInt128(price) * size, 100000)), substring(symbol, -9, 1) = 'P')
               AS put_premium_cents
    FROM option_prints
    WHERE run_id = {run_id:String}
      AND seconds = 1
      AND underlying = {underlying:String}
      AND ({day:String} = '' OR toString(toDate(ts_recv)) = {day:String})
    GROUP BY bucket
) AS o
LEFT JOIN (
    SELECT toDateTime(intDiv(toUnixTimestamp(bucket), seconds) * seconds, 'UTC') AS bucket,
           toNullable(min(open).price) AS open, toNullable(max(high)) AS high,
           toNullable(min(low)) AS low, toNullable(max(close).price) AS close,
           toNullable(sum(volume)) AS volume
    FROM candles_equity
    WHERE run_id = {run_id:String} AND interval_s = 60 AND seconds >= 60
      AND symbol = {underlying:String}
    GROUP BY bucket

    UNION ALL

    SELECT toDateTime(toUnixTimestamp(ts_recv), 'UTC') AS bucket,
           toNullable(min((ts_recv, publisher_id, sequence, price)).4) AS open,
           toNullable(max(price)) AS high, toNullable(min(price)) AS low,
           toNullable(max((ts_recv, publisher_id, sequence, price)).4) AS close,
           toNullable(sum(toUInt64(size))) AS volume
    FROM equity_prints
    WHERE run_id = {run_id:String} AND seconds = 1 AND symbol = {underlying:String}
    GROUP BY bucket
) AS e ON e.bucket = o.bucket
ORDER BY bucket
SETTINGS join_use_nulls = 1
