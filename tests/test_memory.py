"""autopruner.memory: glibc keeps the memory a process frees, so a block allocated again is not faulted in again."""

import subprocess
import sys

import pytest

PROBE = """
import resource, sys
from autopruner.memory import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
block = bytearray(64 << 20)  # malloc'd and written: 16 384 fresh 4 kB pages
del block
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
block = bytearray(64 << 20)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults_of_second_block(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_freed_memory_is_reused_without_page_faults():
    default, kept = _faults_of_second_block("default"), _faults_of_second_block("keep")
    assert default > 8000  # glibc unmapped the first block: every page of the second is new
    assert kept < 1000
