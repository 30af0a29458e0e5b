"""One source's way through the bridge: each event's id looked up, renamed or quarantined.

An id already checked costs one dict lookup and one string comparison. Anything else takes
the slow path once per id (and again after an overrides reload):
- an override applies (its symbol replaces the event's), unless strict mode finds it
  conflicting with the source's own mapping: then it is refused and the source's mapping
  stands;
- an id that neither the source nor an override maps is `unmapped_id`; an event whose
  symbol is not the one the source's own mapping gives its id is `id_mismatch`. Both become
  `Quarantined` events (the original encoded as evidence), except in shadow mode, where they
  pass unchanged and are only counted and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from dataclasses import asdict, dataclass
from typing import Literal

import msgspec

from ingest.bridge.mappings import SourceMapping
from schemas.codec import encode_event
from schemas.events import Event, MarketEvent, Quarantined

log = logging.getLogger(__name__)

Mode = Literal["default", "strict", "shadow"]
MODES: tuple[Mode, ...] = ("default", "strict", "shadow")
UNMAPPED_ID = "unmapped_id"
ID_MISMATCH = "id_mismatch"
LOGGED_IDS_MAX = 10_000  # ids logged once each, up to this many per source


@dataclass
class LaneCounters:
    unmapped: int = 0  # events whose id neither the source nor an override maps
    mismatched: int = 0  # events named otherwise than the source's mapping names their id
    quarantined: int = 0  # of those two, turned into Quarantined events
    shadow_passed: int = 0  # of those two, passed unchanged (shadow mode)
    renamed: int = 0  # events an override gave another symbol
    overrides_refused: int = 0  # overrides strict mode refused when their id was first seen

    def as_dict(self) -> dict[str, int]:
        """The counters under the health contract's camelCase names."""
        return {_camel(name): value for name, value in asdict(self).items()}


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.title() for word in rest)


class BridgeLane:
    """Translates one source's events; `overrides` are its operators' (id key -> symbol)."""

    def __init__(
        self,
        source: str,
        mapping: SourceMapping,
        mode: Mode,
        on_refusal: Callable[[str], None],
    ) -> None:
        self.source = source
        self.mapping = mapping
        self.mode = mode
        self.counters = LaneCounters()
        self._on_refusal = on_refusal
        self._key = mapping.key
        self._known: dict[Hashable, str] = {}
        self._renames: dict[Hashable, tuple[str, str]] = {}  # key -> (source's, override's)
        self._overrides: dict[Hashable, str] = {}
        self._logged: set[Hashable] = set()

    @property
    def overrides(self) -> dict[Hashable, str]:
        return dict(self._overrides)

    def parse_overrides(self, listed: dict[str, str]) -> dict[Hashable, str]:
        """The overrides file's entries for this source, keyed like its events; ValueError
        names the first id its id space cannot read."""
        parsed: dict[Hashable, str] = {}
        for text, symbol in listed.items():
            try:
                parsed[self.mapping.parse_id(text)] = symbol
            except ValueError as exc:
                raise ValueError(f"{self.source} ({self.mapping.id_space} ids): {exc}") from None
        return parsed

    def conflicts(self, overrides: dict[Hashable, str]) -> list[str]:
        """Each override whose id the source already maps to another symbol, as a phrase."""
        found: list[str] = []
        for key, symbol in overrides.items():
            own = self.mapping.resolve(key, None)
            if own is not None and own != symbol:
                found.append(self._conflict(key, symbol, own))
        return found

    def use_overrides(self, overrides: dict[Hashable, str]) -> None:
        """Apply `overrides` from the next event on (every id is looked up again)."""
        self._overrides = dict(overrides)
        self._known.clear()
        self._renames.clear()

    def translate(self, event: Event) -> Event:
        """The event with its canonical symbol, or its quarantine (shadow: the event)."""
        if not isinstance(event, MarketEvent):
            return event
        key = self._key(event)
        if self._known.get(key) == event.symbol:
            return event
        return self._look_up(event, key)

    def _look_up(self, event: MarketEvent, key: Hashable) -> Event:
        rename = self._renames.get(key)
        if rename is not None and rename[0] == event.symbol:
            self.counters.renamed += 1
            return msgspec.structs.replace(event, symbol=rename[1])
        own = self.mapping.resolve(key, event)
        override = self._overrides.get(key)
        if override is not None and override != own:
            strict = self.mode == "strict"
            if own is None or not strict:
                if not strict:  # strict mode asks the source again until it knows the id
                    self._renames[key] = (event.symbol, override)
                self.counters.renamed += 1
                return msgspec.structs.replace(event, symbol=override)
            self._refuse(key, override, own)
        if own is None:
            self.counters.unmapped += 1
            return self._reject(event, key, UNMAPPED_ID, "has no mapping")
        if own != event.symbol:
            self.counters.mismatched += 1
            return self._reject(event, key, ID_MISMATCH, f"maps to {own!r}, not to the event's")
        self._known[key] = own
        return event

    def _conflict(self, key: Hashable, symbol: str, own: str) -> str:
        return (
            f"{self.source} id {self.mapping.describe(key)} -> {symbol!r} conflicts with "
            f"the source's own {own!r}"
        )

    def _refuse(self, key: Hashable, symbol: str, own: str) -> None:
        del self._overrides[key]
        self.counters.overrides_refused += 1
        self._on_refusal(f"strict mode refuses the override {self._conflict(key, symbol, own)}")

    def _reject(self, event: MarketEvent, key: Hashable, reason: str, problem: str) -> Event:
        detail = (
            f"{self.source} {self.mapping.id_space} id {self.mapping.describe(key)} "
            f"({type(event).__name__} {event.symbol!r}) {problem}"
        )
        shadow = self.mode == "shadow"
        if key not in self._logged and len(self._logged) < LOGGED_IDS_MAX:
            self._logged.add(key)
            log.warning("%s: %s%s", reason, detail, " (shadow mode: passed)" if shadow else "")
        if shadow:
            self.counters.shadow_passed += 1
            return event
        self.counters.quarantined += 1
        return Quarantined(
            ts_recv=event.ts_recv,
            source=self.source,
            reason=reason,
            detail=detail,
            payload=encode_event(event),
        )
