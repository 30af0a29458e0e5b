"""A live engine service back from its Redis checkpoint (`infra.state`): the engine state,
the reorder buffer and the checkpoint they were saved with, refused when the engine's
settings have changed since."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from infra.state import Checkpoint, StateStore
from live.reorder import ReorderBuffer
from schemas.errors import ConfigError


class _Configured(Protocol):
    @property
    def config(self) -> Any: ...


S = TypeVar("S", bound=_Configured)


@dataclass(frozen=True, slots=True)
class Restored(Generic[S]):
    state: S
    reorder: ReorderBuffer
    checkpoint: Checkpoint


async def restore_engine(
    store: StateStore,
    decode: Callable[[bytes], S],
    *,
    config: object,
    allowed_lateness_ns: int,
    what: str,
    run_id: str,
) -> Restored[S] | None:
    """The checkpointed state (decoded by `decode`), reorder buffer and checkpoint; None
    before the first checkpoint. `what` names the service in the error raised when the
    checkpoint was made with a config other than `config`."""
    checkpoint = await store.load()
    saved = await store.load_engine()
    if checkpoint is None or saved is None:
        return None
    state = decode(saved[0])
    if state.config != config:
        raise ConfigError(
            f"the {what} checkpoint of run {run_id!r} was made with other settings; "
            "start another run id"
        )
    return Restored(state, ReorderBuffer.restore(allowed_lateness_ns, checkpoint.state), checkpoint)
