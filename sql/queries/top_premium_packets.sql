-- The largest flow packets of a run by premium (cents), with their shape.
-- underlying and day (YYYY-MM-DD) narrow it down; empty means all.
-- default: run_id = live
-- default: underlying =
-- default: day =
-- default: limit = 20
SELECT
    packet_id,
    kind,
    structure,
    underlying,
    side,
    ts_start,
    ts_end,
    premium_cents,
    size,
    n_prints,
    length(venues) AS n_venues,
    aggressor_ratio,
    nbbo_coverage,
    late
FROM flow_packets
WHERE run_id = {run_id:String}
  AND ({underlying:String} = '' OR underlying = {underlying:String})
  AND ({day:String} = '' OR toString(toDate(ts_start)) = {day:String})
ORDER BY premium_cents DESC, packet_id
LIMIT {limit:UInt32}
