import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

import pytest

from ingest.synthetic.source import in_daemon_thread


def stop_while_generating(run_in_thread: Callable[[Callable[[], str]], Awaitable[str]]) -> float:
    """Seconds `asyncio.run` takes to return when its task is cancelled while the thread
    still generates (the generation would take 30 s)."""
    started, release = threading.Event(), threading.Event()

    def generate() -> str:
        started.set()
        release.wait(30)
        return "session"

    async def stopped_mid_generation() -> None:
        task = asyncio.ensure_future(run_in_thread(generate))
        assert await asyncio.to_thread(started.wait, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    began = time.monotonic()
    asyncio.run(stopped_mid_generation())
    elapsed = time.monotonic() - began
    release.set()
    return elapsed


def test_a_stop_while_a_session_is_generated_does_not_wait_for_the_generation() -> None:
    assert stop_while_generating(in_daemon_thread) < 5


def test_the_generated_session_or_its_error_reaches_the_caller() -> None:
    assert asyncio.run(in_daemon_thread(lambda: "session")) == "session"

    def bad_config() -> str:
        raise ValueError("bad config")

    with pytest.raises(ValueError, match="bad config"):
        asyncio.run(in_daemon_thread(bad_config))
