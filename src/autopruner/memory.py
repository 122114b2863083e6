"""glibc's allocator told to keep the memory a process frees, so that the next allocation reuses it.

By default glibc hands every block above its mmap threshold (128 kB, raised on the fly to at most 32 MB) to the kernel
and back: each new array of that size is fresh memory, and the kernel maps and zeroes it page by page the first time
it is written (a minor page fault per 4 kB). A shard's generator and detector make the same large arrays chunk after
chunk (`autopruner.detector.shards`); served from memory the process already holds, the next chunk finds them mapped
and still in the cache. The price is that freed memory stays with the process, up to the size of the largest chunk's
arrays, which it would reuse anyway.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

# mallopt parameters, from glibc's malloc.h
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: blocks up to this size come from the heap, not from mmap
KEEP_BLOCKS_UP_TO_BYTES = 1 << 30


@functools.cache
def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds so freed memory stays in the process for reuse; returns whether the C
    library accepted them (False, and nothing changed, where it is not glibc). Once per process."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, KEEP_BLOCKS_UP_TO_BYTES)) and bool(
        mallopt(M_TRIM_THRESHOLD, 2 * KEEP_BLOCKS_UP_TO_BYTES)
    )
