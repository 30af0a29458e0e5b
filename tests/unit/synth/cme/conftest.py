from __future__ import annotations

from pathlib import Path

import databento as db
import numpy as np
import pytest

from synth.cme import CmeSession, generate_cme_session, write_cme_session
from synth.cme_config import CmeConfig
from synth.cme_labels import LABELS_FILE, SESSION_FILE, CmeSecondLabel, read_labels

SMALL = CmeConfig(seed=23_011, minutes=3, quiet_windows=[(70, 20), (130, 15)])


@pytest.fixture(scope="session")
def cme_session() -> CmeSession:
    return generate_cme_session(SMALL)


@pytest.fixture(scope="session")
def cme_dir(cme_session: CmeSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cme")
    write_cme_session(cme_session, out)
    return out


@pytest.fixture(scope="session")
def cme_stores(cme_dir: Path) -> dict[str, db.DBNStore]:
    """Every written DBN file opened by databento, keyed by schema."""
    stores = {}
    for path in sorted(cme_dir.glob("*.dbn.zst")):
        store = db.DBNStore.from_file(path)
        stores[str(store.schema)] = store
    return stores


@pytest.fixture(scope="session")
def cme_arrays(cme_stores: dict[str, db.DBNStore]) -> dict[str, np.ndarray]:
    return {schema: store.to_ndarray() for schema, store in cme_stores.items()}


@pytest.fixture(scope="session")
def cme_labels(cme_dir: Path) -> list[CmeSecondLabel]:
    assert (cme_dir / SESSION_FILE).exists()
    return read_labels(cme_dir / LABELS_FILE)
