"""The Parquet recorder: the log's trades, quotes and depth, book snapshots and candles."""
