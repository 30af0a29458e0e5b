"""Fixtures of the sink tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.warehouse import Warehouse
from tests.conftest import Servers, scratch_warehouse


@pytest.fixture
def reference(servers: Servers) -> Iterator[Warehouse]:
    """A second database holding the expected rows, inserted directly."""
    with scratch_warehouse(servers) as wh:
        yield wh
