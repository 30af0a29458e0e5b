"""The engine processes' opt-out of transparent huge pages (infra/pages.py), each case in a
fresh interpreter: the switch is process-wide and cannot be undone by the process itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pydantic
import pytest

from infra.pages import huge_pages_disabled
from infra.settings import Settings

ROOT = Path(__file__).resolve().parents[3]

# Writes 64 MiB of NumPy array (NumPy asks for huge pages on it), then prints whether the
# process has opted out, its huge-page memory, and a child's THP_enabled line.
_PROBE = """
import subprocess, sys
import numpy as np
from infra.pages import huge_pages_disabled, set_huge_pages
set_huge_pages(sys.argv[1])
array = np.ones(8 << 20, np.int64)
huge_kb = sum(int(line.split()[1]) for line in open("/proc/self/smaps")
              if line.startswith("AnonHugePages:"))
child = subprocess.run(["grep", "THP_enabled", "/proc/self/status"], capture_output=True,
                       text=True, check=True).stdout.split()[1]
print(huge_pages_disabled(), huge_kb, child)
"""


def _probe(policy: str) -> tuple[str, int, str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, policy], cwd=ROOT, capture_output=True, text=True,
        check=True,
    ).stdout.split()  # fmt: skip
    return out[0], int(out[1]), out[2]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux process switch")
def test_off_leaves_numpy_arrays_and_child_processes_without_huge_pages() -> None:
    disabled, huge_kb, child = _probe("off")
    assert (disabled, huge_kb, child) == ("True", 0, "0")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux process switch")
def test_system_leaves_the_kernels_policy_alone() -> None:
    # as this process stands (a command run in-process by an earlier test may have opted out)
    disabled, _, child = _probe("system")
    mine = next(line for line in open("/proc/self/status") if line.startswith("THP_enabled"))
    assert (disabled, child) == (str(huge_pages_disabled()), mine.split()[1])


def test_the_setting_defaults_to_off_and_refuses_anything_but_off_or_system(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings(_env_file=None).transparent_huge_pages == "off"
    monkeypatch.setenv("FLOWTAPE_TRANSPARENT_HUGE_PAGES", "system")
    assert Settings(_env_file=None).transparent_huge_pages == "system"
    monkeypatch.setenv("FLOWTAPE_TRANSPARENT_HUGE_PAGES", "sometimes")
    with pytest.raises(pydantic.ValidationError, match="FLOWTAPE_TRANSPARENT_HUGE_PAGES"):
        Settings(_env_file=None)
