"""What both the API and the CLI read: backtest report, parity, named queries."""
