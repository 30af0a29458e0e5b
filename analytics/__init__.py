"""What both the API and the CLI read: backtest report, scoring against labels, parity, named
queries."""
