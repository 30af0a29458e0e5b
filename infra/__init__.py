"""Adapters to the outside: JetStream bus, ClickHouse warehouse, Redis state, embedded servers."""
