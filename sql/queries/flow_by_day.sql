-- Flow per underlying per day: stored packets (lone single prints are not among them),
-- sweeps, blocks, multi-leg packets, classifier hits and alerts (with the highest alert
-- severity), by sweep premium.
-- default: run_id = live
-- default: underlying =
-- default: day =
SELECT
    date,
    underlying,
    sum(packets) AS packets,
    sum(packet_premium_cents) AS packet_premium_cents,
    sum(sweeps) AS sweeps,
    sum(sweep_premium_cents) AS sweep_premium_cents,
    sum(blocks) AS blocks,
    sum(multi_leg) AS multi_leg,
    sum(hits) AS hits,
    sum(alerts) AS alerts,
    max(max_alert_severity) AS max_alert_severity
FROM flow_daily
WHERE run_id = {run_id:String}
  AND ({underlying:String} = '' OR underlying = {underlying:String})
  AND ({day:String} = '' OR toString(date) = {day:String})
GROUP BY date, underlying
ORDER BY date, sweep_premium_cents DESC, underlying
