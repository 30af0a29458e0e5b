-- Contracts swept at least min_sweeps times on one side in one day, by total premium.
-- default: run_id = live
-- default: underlying =
-- default: min_sweeps = 3
-- default: limit = 50
SELECT
    toDate(ts_start) AS date,
    underlying,
    legs[1].symbol AS symbol,
    side,
    count() AS sweeps,
    sum(premium_cents) AS premium_cents,
    sum(size) AS size,
    min(ts_start) AS first_ts,
    max(ts_end) AS last_ts,
    arraySort(groupArray(packet_id)) AS packet_ids
FROM flow_packets
WHERE run_id = {run_id:String}
  AND kind = 'sweep'
  AND ({underlying:String} = '' OR underlying = {underlying:String})
GROUP BY date, underlying, symbol, side
HAVING sweeps >= {min_sweeps:UInt32}
ORDER BY premium_cents DESC, date, symbol, side
LIMIT {limit:UInt32}
