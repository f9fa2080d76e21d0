"""Native memory of a long session: one malloc arena for every training thread.

glibc gives each new thread a malloc arena of its own, up to eight per
core, and memory freed in an arena stays with it, fragmented. Every run of
the window trains on a new thread, so a session of many short runs spread
its allocations over all of them: resident memory grew by hundreds of kB per
run (``benchmarks/bench_window_memory.py``: +19 % over 300 train/stop
cycles) and never came back. With at most :data:`ARENAS` arenas (the main
one and one the threads share) it stays flat (±1 %). Elsewhere than glibc
this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

ARENAS = 2
_M_ARENA_MAX = -8          # glibc's mallopt parameter number
_limited = False


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas at ``arenas`` (once per process; True when set).

    Call it early, on the GUI thread, before training threads start: glibc
    fixes the cap when it first needs a second arena.
    """
    global _limited
    if _limited or not sys.platform.startswith("linux"):
        return _limited
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _limited = bool(libc.mallopt(_M_ARENA_MAX, int(arenas)))
    except (OSError, AttributeError):    # not glibc (musl has no mallopt)
        _limited = False
    return _limited
