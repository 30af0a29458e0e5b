"""A replay builds its Arrow tables with the C library's allocator, engine processes too."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import multiprocessing
import pyarrow as pa


def backend(queue):
    queue.put(pa.default_memory_pool().backend_name)


if __name__ == "__main__":
    from replay.driver import use_system_allocator

    before = pa.default_memory_pool().backend_name
    use_system_allocator()
    context = multiprocessing.get_context("spawn")  # as the sharded replay starts its engines
    queue = context.Queue()
    child = context.Process(target=backend, args=(queue,))
    child.start()
    print(before, pa.default_memory_pool().backend_name, queue.get(timeout=60))
    child.join()
"""


def test_the_replay_process_and_the_engines_it_spawns_use_the_system_allocator(tmp_path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    # without the variable an earlier in-process replay may have left to this process
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    found = subprocess.run(
        [sys.executable, str(probe)], capture_output=True, text=True, timeout=120, check=True,
        env=env,
    )  # fmt: skip
    before, after, spawned = found.stdout.split()
    assert before != "system"  # pyarrow's own default, so the call is what changes it
    assert (after, spawned) == ("system", "system")
