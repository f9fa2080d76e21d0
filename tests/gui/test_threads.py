"""Qt objects live and die on the GUI thread, whatever the training thread does."""

from __future__ import annotations

import gc
import threading

from gui.worker import TrainingRun, TrainingWorker


class _Cycle:
    """Garbage only the cycle collector can free; records the thread that freed it."""

    def __init__(self, freed_on: list):
        self.me = self
        self.freed_on = freed_on

    def __del__(self):
        self.freed_on.append(threading.current_thread().name)


def test_cyclic_garbage_is_collected_on_the_gui_thread_only(qtbot, window):
    freed_on: list[str] = []
    _Cycle(freed_on)
    # A busy background thread allocates as training does (and keeps what it made,
    # so the allocation count passes the collection threshold): with automatic
    # collection on, one of its allocations would free the cycle right there.
    kept = []

    def allocate():
        kept.extend([] for _ in range(20 * gc.get_threshold()[0]))
    worker = threading.Thread(target=allocate, name="busy-worker")
    worker.start()
    worker.join()
    assert freed_on == []
    qtbot.waitUntil(lambda: freed_on != [], timeout=5000)  # the GUI thread's timer
    assert freed_on == [threading.main_thread().name]
    assert not gc.isenabled()


class _QuickTrainer:
    def run(self, emit, control, until):
        pass


def test_a_run_reports_finished_only_once_its_thread_has_ended(qtbot):
    worker = TrainingWorker(lambda: (_QuickTrainer(), None), nice=0)
    run = TrainingRun(worker)
    seen = []
    run.finished.connect(lambda: seen.append((run.thread.isFinished(),
                                              worker.thread() is not run.thread)))
    with qtbot.waitSignal(run.finished, timeout=5000):
        run.start()
    assert seen == [(True, True)]       # thread over; the worker is back on the GUI thread
