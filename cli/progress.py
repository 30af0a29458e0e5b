"""The progress bar long commands show on stderr (replay, synth, a Databento download, a file
ingest): a bar over a known total, or an indeterminate one, with the count done and its rate.
Off when stderr is not a terminal, so scripts and tests read clean output."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

STDERR = Console(stderr=True)


class Meter:
    """One phase of a command at a time: `start` it with its total (None: unknown), then
    `update` it with the count done. The bar measures `completed` when a phase runs over
    something other than its items (a replay: session time), the count otherwise.

    `paced`: the items come at a steady pace, so a rate and a time left mean something (not
    so for a few steps of very different lengths)."""

    def __init__(
        self, label: str, unit: str, *, paced: bool = True, console: Console = STDERR
    ) -> None:
        self.unit = unit
        self.paced = paced
        columns: list[ProgressColumn] = [
            TextColumn(f"[bold]{label}"), TextColumn("{task.description}"), BarColumn(),
            TaskProgressColumn(), TextColumn("{task.fields[where]}"),
            TextColumn("{task.fields[count]}"),
        ]  # fmt: skip
        if paced:
            columns.append(TextColumn("{task.fields[rate]}"))
        columns.append(TimeElapsedColumn())
        if paced:
            columns.append(TimeRemainingColumn())
        self._progress = Progress(*columns, console=console, disable=not console.is_terminal)
        self._task: TaskID | None = None
        self._total: int | None = None
        self._completed = 0
        self._started = 0.0

    def start(self, total: int | None, description: str = "", unit: str | None = None) -> None:
        """Begin a phase of `total` (None: unknown) with nothing done, counted in `unit`
        (default: the meter's)."""
        if self._task is not None:
            self._progress.remove_task(self._task)
        self.unit = unit or self.unit
        self._total = total
        self._completed = 0
        self._started = time.perf_counter()
        self._task = self._progress.add_task(
            description, total=total, where="", count=self._count(0, None), rate=""
        )

    def update(
        self,
        done: int,
        *,
        completed: int | None = None,
        description: str | None = None,
        where: str = "",
    ) -> None:
        """`done` items so far; the bar at `completed` (default: `done`)."""
        if self._task is None:
            return
        rate = done / max(time.perf_counter() - self._started, 1e-9)
        self._completed = done if completed is None else completed
        self._progress.update(
            self._task,
            completed=self._completed,
            count=self._count(done, completed),
            rate=f"{rate:,.0f} {self.unit}/s",
            where=where,
            description=description,
        )

    def note(self, message: str) -> None:
        """A line above the bar."""
        self._progress.console.print(message)

    def _count(self, done: int, completed: int | None) -> str:
        if self._total is not None and completed is None:  # the total counts the items
            return f"{done:,} of {self._total:,} {self.unit}"
        return f"{done:,} {self.unit}"

    def __enter__(self) -> Meter:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None and exc_type is None and self._total is None:
            # an indeterminate phase that ended has its total at last: what it counted
            self._progress.update(self._task, total=self._completed or 1)
        self._progress.stop()
