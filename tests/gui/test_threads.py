"""Qt objects live and die on the GUI thread, whatever the training thread does."""

from __future__ import annotations

import gc
import threading

from gui.run.worker import Job, Worker


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


def test_a_run_reports_finished_only_once_its_thread_has_ended(qtbot):
    worker = Worker(lambda emit, control: None, nice=0)
    run = Job(worker)
    seen = []
    run.finished.connect(lambda: seen.append((run.thread.isFinished(),
                                              worker.thread() is not run.thread)))
    with qtbot.waitSignal(run.finished, timeout=5000):
        run.start()
    assert seen == [(True, True)]       # thread over; the worker is back on the GUI thread


def test_the_worker_runs_any_job_and_coalesces_its_steps(qtbot):
    """One worker for every job: a plain run(emit, control) callable, called on the
    training thread; the GUI hears a batch of steps and the rest in order."""
    from engine.events import EpochEnded, StepMetrics
    from gui.run.coalescing import MetricsBatch
    heard, forwarded = [], []

    def job(emit, control):
        heard.append(threading.current_thread().name)
        for step in range(1, 6):
            emit(StepMetrics(epoch=1, step=step, batch=step, batches=5, terms={"total": 1.0 / step},
                             samples_per_sec=1.0, wall_time=0.01 * step))
        emit(EpochEnded(epoch=1, step=5, train={"total": 0.5}, val={}, wall_time=0.05,
                        samples_per_sec=1.0))

    worker = Worker(job, interval=60.0, nice=0)
    worker.event.connect(forwarded.append)
    run = Job(worker)
    with qtbot.waitSignal(run.finished, timeout=5000):
        run.start()
    assert len(heard) == 1 and threading.main_thread().name not in heard   # the training thread
    assert [type(e) for e in forwarded] == [MetricsBatch, EpochEnded]
    assert forwarded[0].steps.tolist() == [1, 2, 3, 4, 5]
    assert forwarded[0].terms["total"].tolist() == [1.0, 0.5, 1 / 3, 0.25, 0.2]
