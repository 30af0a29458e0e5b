"""The one protocol every source implements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from schemas.events import Event

if TYPE_CHECKING:
    from ingest.bridge.mappings import SourceMapping


@runtime_checkable
class Source(Protocol):
    """A source of normalised raw events.

    `events()` yields events in canonical order (schemas.ordering) as far as the source can
    know it; input it cannot parse comes out as `Quarantined` events with the reason, never
    as an exception that stops the stream.
    """

    name: str

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    def events(self) -> AsyncIterator[Event]: ...


@runtime_checkable
class IdMappedSource(Protocol):
    """A source that declares how its ids map to canonical instruments (`ingest.bridge`)."""

    def id_mapping(self) -> SourceMapping: ...
