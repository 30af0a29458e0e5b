"""The deterministic engine: `step(state, batch) -> (state, outputs)`. Pure: no I/O, no clock.

Imports only `schemas` and the standard library (see `tests/unit/compute/test_purity.py`).
"""

from compute.config import SEED_NAMES, EngineConfig, config_from_settings
from compute.engine import finish, step
from compute.state import EngineState, decode_state, encode_state, initial_state

__all__ = [
    "SEED_NAMES",
    "EngineConfig",
    "EngineState",
    "config_from_settings",
    "decode_state",
    "encode_state",
    "finish",
    "initial_state",
    "step",
]
