"""What every market-data provider shares: exact decimals, the fail-closed symbology table,
the receive clock, reconnecting WebSocket feeds with heartbeats, failover, the bounded
queue with its loss policy, and the publishing service."""
