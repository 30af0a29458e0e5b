"""The deterministic engine: `step(state, batch) -> (state, outputs)`. Pure: no I/O, no clock."""
