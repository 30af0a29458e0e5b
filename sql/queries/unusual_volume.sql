-- Contracts whose day volume exceeds min_ratio times their open interest that day
-- (Market Chameleon's "volume > open interest"), largest ratio first.
-- default: run_id = live
-- default: underlying =
-- default: day =
-- default: min_ratio = 1
-- default: min_volume = 1
-- default: limit = 50
SELECT
    date,
    underlying,
    symbol,
    volume,
    open_interest,
    volume_oi_ratio,
    trades,
    premium_cents
FROM contract_volume_vs_oi
WHERE run_id = {run_id:String}
  AND ({underlying:String} = '' OR underlying = {underlying:String})
  AND ({day:String} = '' OR toString(date) = {day:String})
  AND open_interest IS NOT NULL
  AND volume >= {min_volume:UInt64}
  AND volume > open_interest * {min_ratio:Float64}
ORDER BY volume_oi_ratio DESC, volume DESC, symbol
LIMIT {limit:UInt32}
