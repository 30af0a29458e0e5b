"""The crypto features engine: `step(state, batch) -> (state, outputs)`. Pure: no I/O, no clock.

Per symbol over a trailing event-time window: mid, spread, VWAP, returns over 1/5/30/60 s,
realised volatility, trade count and volumes, trade imbalance, exchange-to-receive latency,
book and quote imbalance, funding; rule-based long/short signals carrying the values that
fired them.
"""

from compute.features.config import FeaturesConfig
from compute.features.engine import finish, step
from compute.features.state import FeaturesState, decode_state, encode_state, initial_state

__all__ = [
    "FeaturesConfig",
    "FeaturesState",
    "decode_state",
    "encode_state",
    "finish",
    "initial_state",
    "step",
]
