-- Net call and put premium (cents) per minute per underlying, by inferred aggressor side:
-- net = bought - sold; premium on prints of unknown side is reported apart.
-- default: run_id = live
-- default: underlying =
-- default: day =
SELECT
    underlying,
    minute,
    sum(prints) AS prints,
    sum(call_buy_cents) - sum(call_sell_cents) AS net_call_cents,
    sum(put_buy_cents) - sum(put_sell_cents) AS net_put_cents,
    sum(call_buy_cents) AS call_bought_cents,
    sum(call_sell_cents) AS call_sold_cents,
    sum(put_buy_cents) AS put_bought_cents,
    sum(put_sell_cents) AS put_sold_cents,
    sum(call_unknown_cents) + sum(put_unknown_cents) AS unknown_side_cents
FROM net_premium_minute
WHERE run_id = {run_id:String}
  AND ({underlying:String} = '' OR underlying = {underlying:String})
  AND ({day:String} = '' OR toString(toDate(minute)) = {day:String})
GROUP BY underlying, minute
ORDER BY underlying, minute
