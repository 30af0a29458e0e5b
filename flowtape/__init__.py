"""flowtape's public Python API for strategy code: `flowtape.client.MarketDataClient`."""
