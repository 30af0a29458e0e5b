"""The fail-closed ID bridge between each source's id space and flowtape's canonical
instruments (symbols): every event the ingest service publishes passes through it.

    bridge = IdBridge("strict", Path("id-overrides.toml"))
    lane = bridge.lane(source.name, mapping_for(source))
    event = lane.translate(event)       # the event, renamed by an override, or Quarantined

- mappings.py: each id space and the source's own mapping (OCC contracts of Alpaca and
  IBKR, Alpaca stock tickers, crypto venue symbols, recorded symbols), and which one a
  source has; databento_ids.py: Databento ids
  per day (imported only for a Databento or synthetic source);
- overrides.py: the operators' overrides file (TOML or JSON);
- lane.py: the per-event path of one source and its counters;
- bridge.py: modes, the lanes, reloading the overrides file when it changes.
"""

from ingest.bridge.bridge import DEFAULT_POLL_S, IdBridge
from ingest.bridge.lane import ID_MISMATCH, MODES, UNMAPPED_ID, BridgeLane, Mode
from ingest.bridge.mappings import (
    ContractSetMapping,
    SourceMapping,
    SymbolMapping,
    VenueSymbolMapping,
    mapping_for,
)
from ingest.bridge.overrides import OverridesError, parse_overrides

__all__ = [
    "DEFAULT_POLL_S",
    "ID_MISMATCH",
    "MODES",
    "UNMAPPED_ID",
    "VenueSymbolMapping",
    "BridgeLane",
    "ContractSetMapping",
    "IdBridge",
    "Mode",
    "OverridesError",
    "SourceMapping",
    "SymbolMapping",
    "mapping_for",
    "parse_overrides",
]
