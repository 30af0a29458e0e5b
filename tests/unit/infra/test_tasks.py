import asyncio
import sys

import pytest

from infra.tasks import cancel_and_wait


async def test_a_cancel_lost_inside_wait_for_is_repeated_until_the_loop_ends() -> None:
    loop = asyncio.get_running_loop()
    answer = loop.create_future()
    rounds_after_cancel = 0
    cancelled = False

    async def reading() -> None:
        nonlocal rounds_after_cancel
        while True:
            await asyncio.wait_for(answer, 5)
            if cancelled:
                rounds_after_cancel += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(reading())
    await asyncio.sleep(0)  # the task now waits in wait_for
    answer.set_result(None)  # the answer arrives, and the cancel lands before the task wakes
    cancelled = True
    await asyncio.wait_for(cancel_and_wait([task, None], recancel_after_s=0.05), 2)
    assert task.cancelled()
    if sys.version_info < (3, 12):  # where wait_for loses the cancel: the loop went round
        assert rounds_after_cancel >= 1


async def test_a_task_that_had_failed_is_waited_for_and_its_error_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def failing() -> None:
        raise ValueError("bad frame")

    task = asyncio.create_task(failing(), name="reader")
    await asyncio.sleep(0)
    await cancel_and_wait([task])
    assert isinstance(task.exception(), ValueError)
    assert "task reader had failed: ValueError('bad frame')" in caplog.text
