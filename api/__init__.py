"""The HTTP face of flowtape: REST, WebSocket tape, SQL, health and metrics."""
