"""Keep a training process's memory flat: glibc malloc tuned for many large, short-lived buffers.

Every decoded frame is a ~1 MB buffer allocated and freed on tf.data's threads. glibc's
default raises its mmap threshold after such frees and serves later frames from per-thread
arenas, which fragment, so the peak RSS creeps up with the number of steps. A fixed mmap
threshold returns every large buffer to the OS on free; two arenas bound the fragmentation.
(Same as MALLOC_MMAP_THRESHOLD_=131072 MALLOC_ARENA_MAX=2, but applied inside an already
running work horse.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

M_ARENA_MAX = -8
M_MMAP_THRESHOLD = -3
log = logging.getLogger("tensorkart.trainer.memory")


def bound_malloc(mmap_threshold: int = 128 * 1024, arena_max: int = 2) -> bool:
    """Apply the settings through mallopt; False (and nothing changed) where glibc is not the allocator."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(M_ARENA_MAX, arena_max))
    if not ok:
        log.debug("mallopt refused the settings")
    return ok
