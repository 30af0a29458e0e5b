-- Everything behind one stored packet: its member prints with the NBBO the engine used (and
-- the inference's status and confidence), then the classifier hits and alerts raised on it.
-- A lone print's single packet has no stored row: GET /v1/packets/{id} shows it.
-- default: run_id = live
SELECT * FROM (
    SELECT
        'print' AS item,
        p.ts_event AS ts,
        toString(p.sequence) AS id,
        toNullable(p.instrument_id) AS instrument_id,
        toNullable(p.publisher_id) AS publisher_id,
        o.price AS price,
        o.size AS size,
        toString(i.side) AS side,
        toString(i.bucket) AS bucket,
        if(i.nbbo_status IN ('print', 'joined', 'held'), i.nbbo_bid_px, NULL) AS nbbo_bid_px,
        if(i.nbbo_status IN ('print', 'joined', 'held'), i.nbbo_ask_px, NULL) AS nbbo_ask_px,
        i.nbbo_status AS nbbo_status,
        i.confidence AS confidence,
        '' AS rules,
        CAST(NULL AS Nullable(Float64)) AS score,
        CAST(NULL AS Nullable(UInt8)) AS severity,
        '' AS title
    FROM packet_prints AS p
    LEFT JOIN (
        SELECT publisher_id, instrument_id, sequence, ts_event, side, bucket, nbbo_bid_px,
               nbbo_ask_px, toNullable(toString(nbbo_status)) AS nbbo_status,
               toNullable(confidence) AS confidence
        FROM print_inference
        WHERE run_id = {run_id:String}
          AND (instrument_id, publisher_id, ts_event, sequence) IN (
              SELECT instrument_id, publisher_id, ts_event, sequence FROM packet_prints
              WHERE run_id = {run_id:String} AND packet_id = {packet_id:String})
    ) AS i
        ON i.publisher_id = p.publisher_id AND i.instrument_id = p.instrument_id
        AND i.sequence = p.sequence AND i.ts_event = p.ts_event
    LEFT JOIN (
        SELECT publisher_id, instrument_id, sequence, ts_event, toNullable(price) AS price,
               toNullable(size) AS size
        FROM option_prints
        WHERE run_id = {run_id:String}
          AND (instrument_id, publisher_id, ts_event, sequence) IN (
              SELECT instrument_id, publisher_id, ts_event, sequence FROM packet_prints
              WHERE run_id = {run_id:String} AND packet_id = {packet_id:String})
    ) AS o
        ON o.publisher_id = p.publisher_id AND o.instrument_id = p.instrument_id
        AND o.sequence = p.sequence AND o.ts_event = p.ts_event
    WHERE p.run_id = {run_id:String} AND p.packet_id = {packet_id:String}

    UNION ALL

    SELECT
        'hit', ts_event, hit_id, NULL, NULL, NULL, NULL, '', '', NULL, NULL, NULL, NULL,
        toString(rule), toNullable(score), NULL, ''
    FROM classifier_hits
    WHERE run_id = {run_id:String} AND packet_id = {packet_id:String}

    UNION ALL

    SELECT
        'alert', ts_event, alert_id, NULL, NULL, NULL, NULL, '', '', NULL, NULL, NULL, NULL,
        arrayStringConcat(rules, ','), toNullable(score), toNullable(severity), title
    FROM alerts
    WHERE run_id = {run_id:String} AND packet_id = {packet_id:String}
)
ORDER BY indexOf(['print', 'hit', 'alert'], item), ts, id
SETTINGS join_use_nulls = 1
