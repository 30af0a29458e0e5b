"""Transparent huge pages in the engine processes: off unless `FLOWTAPE_TRANSPARENT_HUGE_PAGES`
says `system`.

NumPy asks the kernel for huge pages (`madvise(MADV_HUGEPAGE)`) on every array of 4 MiB or
more, which covers the kernel's state and output arrays. A virtual machine that hands free
memory back to its host in 2 MiB blocks (virtio-balloon free page reporting) takes each huge
page from such a block, which the host must back again on the first write: about 450 MB/s
on the 2-core machine the benchmarks' figures come from, against about 2 GB/s for ordinary
pages from memory the host still backs. That was a quarter of the wide session's time in
`bench/bench_engine.py` (`--transparent-huge-pages system` measures it). Opting out is a
process-wide switch (`prctl(PR_SET_THP_DISABLE)`) that the processes this one starts
inherit; Redis makes the same choice by default, for latency.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
from typing import Literal

log = logging.getLogger("flowtape.pages")

HugePagePolicy = Literal["off", "system"]

_PR_SET_THP_DISABLE = 41  # <linux/prctl.h>, since Linux 3.15
_PR_GET_THP_DISABLE = 42


def set_huge_pages(policy: HugePagePolicy) -> None:
    """`off`: this process and the ones it starts from now on take no transparent huge pages;
    `system`: the kernel's policy as it stands. Where the kernel has no such switch, a warning
    is logged and the process runs on (only its speed depends on it)."""
    if policy == "system" or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0:
        log.warning(
            "transparent huge pages stay as the kernel sets them: prctl failed (%s)",
            os.strerror(ctypes.get_errno()),
        )


def huge_pages_disabled() -> bool:
    """Whether this process has opted out of transparent huge pages."""
    if not sys.platform.startswith("linux"):
        return False
    return bool(ctypes.CDLL(None).prctl(_PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1)
