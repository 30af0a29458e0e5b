-- Flow alerts a subscriber's webhook never accepted (ops/delivery.py): the body that was
-- signed and sent, how many attempts, and the last failure. An operator resends from here.

CREATE TABLE IF NOT EXISTS alert_dead_letters (
    run_id LowCardinality(String),
    log_seq UInt64,
    alert_id String,
    subscriber LowCardinality(String),
    url String,
    attempts UInt16,
    last_error String,
    body String,
    failed_at DateTime64(9, 'UTC')
) ENGINE = MergeTree
PARTITION BY (run_id, toDate(failed_at))
ORDER BY (run_id, subscriber, failed_at, alert_id);
