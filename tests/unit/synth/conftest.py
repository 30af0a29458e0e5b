from __future__ import annotations

from pathlib import Path

import databento as db
import numpy as np
import pytest

from synth import SynthConfig, SyntheticSession, generate_session, write_session

SMALL = SynthConfig(seed=7, minutes=3, n_underlyings=4, planted_per_kind=3)


@pytest.fixture(scope="session")
def session() -> SyntheticSession:
    return generate_session(SMALL)


@pytest.fixture(scope="session")
def written(session: SyntheticSession, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_session(session, tmp_path_factory.mktemp("synth"))


@pytest.fixture(scope="session")
def stores(written: list[Path]) -> dict[str, db.DBNStore]:
    """Every written DBN file opened by databento, keyed 'DATASET/schema'."""
    out = {}
    for path in written:
        if path.name.endswith(".dbn.zst"):
            store = db.DBNStore.from_file(path)
            out[f"{store.dataset}/{store.schema}"] = store
    return out


@pytest.fixture(scope="session")
def arrays(stores: dict[str, db.DBNStore]) -> dict[str, np.ndarray]:
    return {key: store.to_ndarray() for key, store in stores.items()}
