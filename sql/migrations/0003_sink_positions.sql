-- The stream position up to which the sink has stored every message, one row per flush.
-- It only bounds how far back a restarted sink re-reads; exactly-once rests on the largest
-- log_seq per table partition (see infra/sink.py).

CREATE TABLE IF NOT EXISTS sink_positions (
    stream LowCardinality(String),
    position UInt64,
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(position)
ORDER BY stream;
