-- Whether an option quote came from a sampled or polled feed (cbbo-1s, cbbo-1m, Alpaca and
-- IBKR snapshots) rather than a complete change stream (cmbp-1, mbp-1): the engine holds a
-- change stream's last quote in force, and a sampled one only for NBBO_MAX_AGE_MS.

ALTER TABLE option_quotes ADD COLUMN IF NOT EXISTS sampled Bool DEFAULT false AFTER ask_pb;
