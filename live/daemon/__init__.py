"""The market-data daemon: books, trades and candles in memory, served on a Unix socket."""
