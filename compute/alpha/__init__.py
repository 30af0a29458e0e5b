"""The crude alpha engine: `step(state, batch) -> (state, frames)`. Pure: no I/O, no clock.

From CME futures and options on futures (`schemas.cme`), the futures' MBP-10 depth and a
perpetual's funding, an `AlphaFrame` per served root at each whole `emit_ms` of event time:
the front future's mid, signed flow and book imbalance; per expiry the parity forward,
Black-76 vols of out-of-the-money options near the money, 25-delta risk reversal and ATM
vol with their counts; the term slope, a skew signal, funding and the chain's health.
"""

from compute.alpha.config import AlphaConfig, AlphaConfigError, config_from_settings
from compute.alpha.engine import finish, step
from compute.alpha.query import OptionVol, option_vols
from compute.alpha.state import AlphaState, decode_state, encode_state, initial_state

__all__ = [
    "AlphaConfig",
    "AlphaConfigError",
    "AlphaState",
    "OptionVol",
    "config_from_settings",
    "decode_state",
    "encode_state",
    "finish",
    "initial_state",
    "option_vols",
    "step",
]
