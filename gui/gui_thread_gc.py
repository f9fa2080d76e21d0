"""Python's cycle collector runs on the GUI thread only, from a timer.

Qt objects must be destroyed on the thread they live on. Many are only
reachable through reference cycles: pyqtgraph's context menus (live ``QMenu``
widgets with their check boxes and actions), the panels of a closed window,
its bound-method slots. The cycle collector frees them whenever a collection
is triggered, on whichever thread happens to allocate at that moment — while
a run trains, usually the training thread, which allocates an object per
batch. A widget tree torn down there races the GUI thread inside Qt, which
can crash or deadlock with no Python frame to interrupt. (A CI run of the
test suite once hung that way in its window tests, where pytest-timeout's
alarm could not fire; this was the likeliest cause found.)

pyqtgraph's :class:`~pyqtgraph.util.garbage_collector.GarbageCollector` is
the known remedy: it turns automatic collection off and collects from a
``QTimer``, so always on the GUI thread. Reference counting frees everything
that is not in a cycle at once, as before; the cycles wait at most a second.
"""

from __future__ import annotations

import gc

from pyqtgraph.util.garbage_collector import GarbageCollector

#: How often the GUI thread looks for cyclic garbage (seconds).
INTERVAL = 1.0

_collector: GarbageCollector | None = None


def collect_garbage_on_gui_thread() -> GarbageCollector:
    """Move cycle collection to the GUI thread (once per process; later calls return it).

    Call on the GUI thread after the ``QApplication`` exists.
    """
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=INTERVAL)
        # The collector's full collections skip CPython's "only when the heap has
        # grown by a quarter" rule. Freezing what exists now (the imported modules,
        # classes, Qt wrappers: most of the heap) keeps each of them to a few
        # milliseconds instead of 35 ms of the GUI thread holding the GIL.
        gc.freeze()
    return _collector


def restore_automatic_collection() -> None:
    """Undo :func:`collect_garbage_on_gui_thread` (tests; nothing trains afterwards)."""
    global _collector
    if _collector is not None:
        _collector.timer.stop()
        _collector = None
    gc.unfreeze()
    gc.enable()
