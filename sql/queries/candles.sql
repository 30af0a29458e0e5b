-- OHLC candles of one option contract (prices at 1e-9 dollars, premium in cents).
-- interval is one of 1s, 1m, 5m, 1h, 4h, 1d: 1m and longer are rolled up from the stored
-- 1-minute rows, 1s candles are computed from the prints.
-- default: run_id = live
-- default: interval = 1m
-- default: day =
WITH transform({interval:String}, ['1s', '1m', '5m', '1h', '4h', '1d'],
               [1, 60, 300, 3600, 14400, 86400], 0) AS seconds
SELECT * FROM (
    SELECT
        toDateTime(intDiv(toUnixTimestamp(bucket), seconds) * seconds, 'UTC') AS bucket,
        min(open).price AS open,
        max(high) AS high,
        min(low) AS low,
        max(close).price AS close,
        sum(volume) AS volume,
        sum(trades) AS trades,
        sum(premium_cents) AS premium_cents
    FROM candles_contract
    WHERE run_id = {run_id:String}
      AND interval_s = throwIf(seconds = 0, 'interval must be 1s, 1m, 5m, 1h, 4h or 1d') + 60
      AND seconds >= 60
      AND symbol = {symbol:String}
      AND ({day:String} = '' OR toString(toDate(bucket)) = {day:String})
    GROUP BY bucket

    UNION ALL

    SELECT
        toDateTime(toUnixTimestamp(ts_recv), 'UTC') AS bucket,
        min((ts_recv, publisher_id, instrument_id, sequence, price)).5 AS open,
        max(price) AS high,
        min(price) AS low,
        max((ts_recv, publisher_id, instrument_id, sequence, price)).5 AS close,
        sum(toUInt64(size)) AS volume,
        toUInt64(count()) AS trades,
        sum(toInt64(intDiv(toInt128(price) * size, 100000))) AS premium_cents
    FROM option_prints
    WHERE run_id = {run_id:String}
      AND seconds = 1
      AND symbol = {symbol:String}
      AND ({day:String} = '' OR toString(toDate(ts_recv)) = {day:String})
    GROUP BY bucket
)
ORDER BY bucket
