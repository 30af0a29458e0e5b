-- OHLC candles of one option contract (prices at 1e-9 dollars, premium in cents).
-- interval is one of 1s, 1m, 5m, 1h, 4h, 1d; 5m and longer are rolled up from 1m rows.
-- default: run_id = live
-- default: interval = 1m
-- default: day =
WITH transform({interval:String}, ['1s', '1m', '5m', '1h', '4h', '1d'],
               [1, 60, 300, 3600, 14400, 86400], 0) AS seconds
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
  AND interval_s = throwIf(seconds = 0, 'interval must be 1s, 1m, 5m, 1h, 4h or 1d')
                   + least(seconds, 60)
  AND symbol = {symbol:String}
  AND ({day:String} = '' OR toString(toDate(bucket)) = {day:String})
GROUP BY bucket
ORDER BY bucket
