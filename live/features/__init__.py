"""The live crypto features consumer: RAW -> reorder buffer -> compute.features -> HTTP and a
WebSocket channel of signals."""
