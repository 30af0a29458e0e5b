"""The ID bridge inside a running ingest service on a real JetStream: an unmapped id reaches
RAW as a quarantine and is counted in /health and /metrics; an overrides file changed while
the service runs is reloaded and applied, and strict mode refuses a conflicting one (the
service says so in /health and /metrics and keeps the previous overrides)."""

from __future__ import annotations

import asyncio
import os
import urllib.request
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from infra.bus import Bus
from infra.embedded import free_port, nats_server
from infra.health import health_served
from ingest.bridge import ContractSetMapping
from ingest.databento.parsing import RecordNormaliser
from ingest.exposition import CONTENT_TYPE, ingest_metrics_text
from ingest.health import IngestHealth
from ingest.service import IngestConfig, IngestService
from ingest.synthetic.source import SyntheticSource, session_events
from schemas.events import Event, OptionPrint, Quarantined
from synth.config import SynthConfig
from synth.session import generate_session
from tests.integration.ingest.test_ingest_health import health_when as health_reported
from tests.integration.ingest.test_ingest_service import GatedSource, stored_events
from tests.kit.events import option_print

pytestmark = pytest.mark.slow

SECOND = 1_000_000_000
T0 = 1_767_366_000 * SECOND  # 2026-01-02T15:00:00Z
CALL = "AAPL  260116C00250000"
PUT = "AAPL  260116P00250000"
OTHER = "MSFT  260116C00400000"
OTHER_NEXT = "MSFT  260116C00405000"


class DeclaredContractsSource(GatedSource):
    """A venue's recorded session that declares the contracts it subscribed (its own id
    mapping): yields `before`, waits for `gate`, then yields `after`."""

    name = "venue"

    def __init__(
        self, contracts: list[str], before: list[Event], after: list[Event], gate: asyncio.Event
    ) -> None:
        super().__init__(before, after, gate)
        self.contracts = contracts

    def id_mapping(self) -> ContractSetMapping:
        return ContractSetMapping(lambda: self.contracts)


def venue_print(symbol: str, second: int) -> OptionPrint:
    t = T0 + second * SECOND
    return option_print(source="venue", symbol=symbol, ts_recv=t, ts_event=t, sequence=second)


def entry(source: str, ident: str, symbol: str) -> str:
    return f'[[override]]\nsource = "{source}"\nid = "{ident}"\nsymbol = "{symbol}"\n'


def write(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    later = max(path.stat().st_mtime_ns, before + 1_000_000)  # past the filesystem's tick
    os.utime(path, ns=(later, later))


def read_metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:  # noqa: S310  (loopback)
        assert answer.headers["Content-Type"] == CONTENT_TYPE
        return answer.read().decode()


async def health_when(port: int, holds: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    _, body = await health_reported(port, holds)
    return body


@asynccontextmanager
async def running(tmp_path: Path, service_of: Callable[[Bus], IngestService]):
    """A NATS server of the test's own, the service running with /health and /metrics on a
    free port; yields (bus, service, port, finished): `finished()` waits for the service to
    end (its source has ended) and returns what RAW holds."""
    server = nats_server(tmp_path / "nats")
    await asyncio.to_thread(server.start)
    bus = await Bus.connect(server.url)
    await bus.ensure_streams()
    service = service_of(bus)
    health = IngestHealth(service)
    port = free_port()
    routes = {"/metrics": (lambda: ingest_metrics_text(service), CONTENT_TYPE)}
    try:
        async with health_served(
            health.report, port, observe=health.observe, every_s=0.05, routes=routes
        ):
            task = asyncio.create_task(service.run())

            async def finished() -> list[Event]:
                await asyncio.wait_for(task, 30)
                return await stored_events(bus)

            yield service, port, finished
    finally:
        await bus.close()
        await asyncio.to_thread(server.stop)


def config(overrides: Path, mode: str = "default") -> IngestConfig:
    return IngestConfig(
        flush_interval_s=0.01, heartbeat_interval_s=60.0, id_bridge_mode=mode,
        id_overrides=overrides, id_overrides_poll_s=0.05,
    )  # fmt: skip


async def test_an_unmapped_id_is_quarantined_on_raw_counted_and_mapped_once_overridden(
    tmp_path: Path,
) -> None:
    overrides = tmp_path / "id-overrides.toml"
    write(overrides, "")
    gate = asyncio.Event()
    before = [venue_print(CALL, 1), venue_print(OTHER, 2)]
    after = [venue_print(OTHER, 3)]
    source = DeclaredContractsSource([CALL], before, after, gate)

    service_of = lambda bus: IngestService(source, bus, config(overrides))  # noqa: E731
    async with running(tmp_path, service_of) as (_, port, finished):
        body = await health_when(port, lambda b: b["quarantined"] == 1 and b["lastCycle"])
        assert body["status"] == "ok" and body["quarantinedByReason"] == {"unmapped_id": 1}
        counts = body["idBridge"]["sources"]["venue"]
        assert (counts["idSpace"], counts["unmapped"], counts["quarantined"]) == ("occ", 1, 1)
        metrics = await asyncio.to_thread(read_metrics, port)
        assert 'flowtape_id_bridge_unmapped_total{id_space="occ",source="venue"} 1' in metrics
        assert 'flowtape_ingest_quarantined_total{reason="unmapped_id",source="venue"} 1' in (
            metrics
        )

        write(overrides, entry("venue", OTHER, OTHER_NEXT))
        body = await health_when(port, lambda b: b["idBridge"]["overrides"]["reloads"] == 1)
        assert body["idBridge"]["overrides"]["active"] == 1
        gate.set()
        stored = await finished()
    prints = [(e.ts_recv, e.symbol) for e in stored if isinstance(e, OptionPrint)]
    assert prints == [(T0 + SECOND, CALL), (T0 + 3 * SECOND, OTHER_NEXT)]
    (quarantined,) = [e for e in stored if isinstance(e, Quarantined)]
    assert (quarantined.reason, quarantined.ts_recv) == ("unmapped_id", T0 + 2 * SECOND)
    assert f"venue occ id {OTHER}" in quarantined.detail


async def test_strict_mode_refuses_a_conflicting_override_while_running_and_keeps_the_old(
    tmp_path: Path,
) -> None:
    overrides = tmp_path / "id-overrides.toml"
    write(overrides, entry("venue", OTHER, OTHER_NEXT))
    gate = asyncio.Event()
    after = [venue_print(CALL, 2), venue_print(OTHER, 3)]
    source = DeclaredContractsSource([CALL], [venue_print(CALL, 1)], after, gate)

    service_of = lambda bus: IngestService(source, bus, config(overrides, "strict"))  # noqa: E731
    async with running(tmp_path, service_of) as (_, port, finished):
        await health_when(port, lambda b: b["events"] == 1 and b["lastCycle"])
        # CALL is the venue's own contract: strict mode will not let a file rename it
        write(overrides, entry("venue", OTHER, OTHER_NEXT) + entry("venue", CALL, PUT))
        body = await health_when(port, lambda b: b["errors"]["count"] == 1)
        last = body["errors"]["last"]
        assert "[id_override_conflict]" in last and "\n" not in last
        assert f"venue id {CALL} -> {PUT!r} conflicts with the source's own {CALL!r}" in last
        state = body["idBridge"]["overrides"]
        assert (state["active"], state["reloads"], state["refusedReloads"]) == (1, 0, 1)
        metrics = await asyncio.to_thread(read_metrics, port)
        assert "flowtape_id_bridge_refused_reloads_total 1" in metrics
        assert 'flowtape_id_bridge_mode{mode="strict"} 1' in metrics
        gate.set()
        stored = await finished()
    prints = [(e.ts_recv - T0, e.symbol) for e in stored if isinstance(e, OptionPrint)]
    assert prints == [(SECOND, CALL), (2 * SECOND, CALL), (3 * SECOND, OTHER_NEXT)]


SMALL_MARKET = SynthConfig(seed=4, minutes=1, n_underlyings=2)


@pytest.mark.parametrize("mode", ["default", "strict"])
async def test_a_databento_id_overridden_for_its_day_is_renamed_on_raw_unless_strict(
    tmp_path: Path, mode: str
) -> None:
    """The synthetic market names every instrument itself (Databento ids per day): the
    override renames one id's events in default mode; strict mode refuses it on first sight."""
    # The same session read on its own, without the bridge: what the source says.
    expected = list(session_events(generate_session(SMALL_MARKET), RecordNormaliser("synthetic")))
    first = next(e for e in expected if isinstance(e, OptionPrint))
    day = datetime.fromtimestamp(first.ts_recv // SECOND, UTC).date().isoformat()
    renamed_to = "ZZZ   991231C00000001"
    overrides = tmp_path / "id-overrides.json"
    write(
        overrides,
        f'{{"override": [{{"source": "synthetic", "id": "{first.instrument_id}@{day}", '
        f'"symbol": "{renamed_to}"}}]}}',
    )
    source = SyntheticSource(SMALL_MARKET, speed=0)
    service_of = lambda bus: IngestService(source, bus, config(overrides, mode))  # noqa: E731
    async with running(tmp_path, service_of) as (service, _, finished):
        stored = await finished()

    def named(events: list[Event]) -> list[tuple[str, int, int, str]]:
        return sorted(
            (type(e).__name__, e.ts_recv, e.instrument_id, e.symbol)
            for e in events
            if hasattr(e, "symbol") and hasattr(e, "instrument_id")
        )

    of_instrument = [
        e for e in expected if getattr(e, "instrument_id", None) == first.instrument_id
    ]
    assert len(of_instrument) > 1
    counts = service.bridge.report()["sources"]["synthetic"]
    assert counts["idSpace"] == "databento"
    assert counts["unmapped"] == counts["mismatched"] == counts["quarantined"] == 0
    if mode == "strict":
        assert named(stored) == named(expected)
        assert (counts["renamed"], counts["overridesRefused"]) == (0, 1)
        return
    want = [msgspec.structs.replace(e, symbol=renamed_to) if e in of_instrument else e
            for e in expected]  # fmt: skip
    assert named(stored) == named(want)
    assert (counts["renamed"], counts["overridesRefused"]) == (len(of_instrument), 0)
