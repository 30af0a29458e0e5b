"""The options-flow engine: `step(state, batch) -> (state, outputs)`. Pure: no I/O, no clock.

The struct engine is the executable specification of the flow kernel.
"""

from compute.flow.config import SEED_NAMES, EngineConfig, config_from_settings
from compute.flow.engine import finish, step
from compute.flow.state import EngineState, decode_state, encode_state, initial_state

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
