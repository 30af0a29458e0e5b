"""The ID bridge: a lane per source, the overrides file it watches, and what it counts."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from ingest.bridge.lane import MODES, BridgeLane, Mode
from ingest.bridge.mappings import SourceMapping
from ingest.bridge.overrides import (
    OverridesError,
    OverrideTable,
    Signature,
    digest,
    parse_overrides,
    signature,
)
from schemas.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_POLL_S = 1.0


class IdBridge:
    """Translates source ids to canonical instruments, failing closed.

    `mode` is `default` (overrides win), `strict` (an override conflicting with the source's
    own mapping is refused) or `shadow` (what would be quarantined passes, counted and
    logged). `overrides_path` is read now (a missing or malformed file refuses to start, and
    so does, in strict mode, an override a source's lane already finds conflicting) and
    again by `poll()` whenever its stat() signature changes; a reload that fails keeps the
    overrides in force and says why in one line (`last_error`).
    """

    def __init__(self, mode: str = "default", overrides_path: Path | None = None) -> None:
        if mode not in MODES:
            raise ConfigError(f"expected an id bridge mode among {', '.join(MODES)}, got {mode!r}")
        self.mode: Mode = mode
        self.overrides_path = overrides_path
        self.lanes: dict[str, BridgeLane] = {}
        self.table: OverrideTable = {}
        self.reloads = 0
        self.reload_errors = 0
        self.refused_reloads = 0
        self.problems = 0  # failed reloads and refused overrides: each is a health error
        self.last_error: str | None = None
        self._signature: Signature | None = None
        self._digest: str | None = None
        if overrides_path is not None:
            self._signature = self._stat()
            text = self._read()
            self.table = parse_overrides(overrides_path, text)
            self._digest = digest(text)

    def lane(self, source: str, mapping: SourceMapping) -> BridgeLane:
        """The lane of `source`, with the overrides listed for it; OverridesError when one
        cannot be read or (strict mode) conflicts with what the source maps already."""
        lane = BridgeLane(source, mapping, self.mode, self._problem)
        try:
            overrides = lane.parse_overrides(self.table.get(source, {}))
        except ValueError as exc:
            raise OverridesError(f"{self.overrides_path}: {exc}") from None
        if self.mode == "strict":
            self._refuse_conflicts(lane.conflicts(overrides))
        lane.use_overrides(overrides)
        self.lanes[source] = lane
        return lane

    def poll(self) -> bool:
        """Reload the overrides if the file changed; True when new ones are in force."""
        if self.overrides_path is None:
            return False
        seen = self._stat()
        if seen == self._signature:
            return False  # unchanged, or still unreadable (said once)
        self._signature = seen
        try:
            text = self._read()
            if digest(text) == self._digest:
                return False
            self._install(parse_overrides(self.overrides_path, text))
        except OverridesError as exc:
            self.reload_errors += 1
            self._problem(f"id overrides not reloaded, the previous stay in force: {exc}")
            return False
        self._digest = digest(text)
        self.reloads += 1
        log.info("id overrides reloaded from %s: %d in force", self.overrides_path, self.active())
        return True

    async def watch(self, every_s: float = DEFAULT_POLL_S) -> None:
        """`poll()` every `every_s` seconds (a stat() call: never per event)."""
        while self.overrides_path is not None:
            await asyncio.sleep(every_s)
            self.poll()

    def active(self) -> int:
        """Overrides in force across the lanes."""
        return sum(len(lane.overrides) for lane in self.lanes.values())

    def report(self) -> dict[str, Any]:
        """Mode, the overrides file's state and each source's counters, as JSON data."""
        return {
            "mode": self.mode,
            "overrides": {
                "path": None if self.overrides_path is None else str(self.overrides_path),
                "active": self.active(),
                "reloads": self.reloads,
                "reloadErrors": self.reload_errors,
                "refusedReloads": self.refused_reloads,
                "lastError": self.last_error,
            },
            "sources": {
                name: {"idSpace": lane.mapping.id_space, **lane.counters.as_dict()}
                for name, lane in sorted(self.lanes.items())
            },
        }

    def _install(self, table: OverrideTable) -> None:
        parsed = {}
        conflicts: list[str] = []
        for source, lane in self.lanes.items():
            try:
                parsed[source] = lane.parse_overrides(table.get(source, {}))
            except ValueError as exc:
                raise OverridesError(f"{self.overrides_path}: {exc}") from None
            if self.mode == "strict":
                conflicts += lane.conflicts(parsed[source])
        if conflicts:
            self.refused_reloads += 1
            self._refuse_conflicts(conflicts)
        for source, overrides in parsed.items():
            self.lanes[source].use_overrides(overrides)
        self.table = table

    def _refuse_conflicts(self, conflicts: list[str]) -> None:
        if conflicts:
            more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
            raise OverridesError(
                f"{self.overrides_path}: strict mode refuses {conflicts[0]}{more}",
                code="id_override_conflict",
            )

    def _stat(self) -> Signature | None:
        assert self.overrides_path is not None  # noqa: S101  (callers check)
        try:
            return signature(self.overrides_path)
        except OSError:
            return None  # _read() says why

    def _read(self) -> bytes:
        assert self.overrides_path is not None  # noqa: S101
        try:
            return self.overrides_path.read_bytes()
        except OSError as exc:
            raise OverridesError(
                f"{self.overrides_path}: cannot read the id overrides: {exc.strerror or exc}"
            ) from None

    def _problem(self, message: str) -> None:
        self.problems += 1
        self.last_error = message
        log.error("%s", message)
