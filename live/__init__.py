"""Long-running services that drive the engines and the log: compute service, reorder
buffer, sink."""
