"""`flowtape ingest --source databento-file --path MBO --books` as a process: every MBO record
of the file reaches the log inside an order-book venue event; without `--books` none does."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import defaultdict
from pathlib import Path

import databento_dbn as dbn
import pytest
import zstandard

from infra.bus import Bus
from schemas.book import F_LAST, MboEvent
from tests.conftest import Servers
from tests.integration.ingest.crypto.test_marketdata_service import log_events


def venue_events_in(path: Path) -> tuple[int, int]:
    """MBO records in the file, and the venue events they make: per instrument, one per
    F_LAST record plus one for records left after the instrument's last F_LAST."""
    decoder = dbn.DBNDecoder()
    decoder.write(zstandard.ZstdDecompressor().decompressobj().decompress(path.read_bytes()))
    open_records: defaultdict[int, int] = defaultdict(int)
    records = events = 0
    for record in decoder.decode():
        if isinstance(record, dbn.MBOMsg):
            records += 1
            open_records[record.instrument_id] += 1
            if record.flags & F_LAST:
                events += 1
                open_records[record.instrument_id] = 0
    return records, events + sum(1 for left in open_records.values() if left)


async def ingest(servers: Servers, tmp_path: Path, *options: str) -> str:
    env = {**os.environ, **servers.environment(), "FLOWTAPE_DATA_DIR": str(tmp_path)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli.main", "ingest", "--source", "databento-file", *options,
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode()
    return stderr.decode()


@pytest.mark.slow
async def test_books_puts_every_mbo_record_on_the_log_in_its_venue_event(
    servers: Servers, bus: Bus, tmp_path: Path, shared_data: Path
) -> None:
    sample = shared_data / "GLBX.MDP3" / "test_data.mbo.dbn.zst"
    records, events = venue_events_in(sample)

    await ingest(servers, tmp_path, "--path", str(sample))
    assert not [e for e in await log_events(bus) if isinstance(e, MboEvent)]

    await ingest(servers, tmp_path, "--path", str(sample), "--books")
    books = [e for e in await log_events(bus) if isinstance(e, MboEvent)]
    assert len(books) == events
    assert sum(len(e.records) for e in books) == records
    assert records > 0 and all(e.venue == "GLBX" for e in books)
