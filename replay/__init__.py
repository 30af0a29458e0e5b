"""Drivers that feed recorded sessions into the engine, and backtest reports."""
