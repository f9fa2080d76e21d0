"""What a run leaves behind once it is over (issue 21 item 17): nothing. Every train/stop
cycle kept its worker, with the job it ran and the run's config, and spread its thread's
allocations over a new malloc arena; benchmarks/bench_window_memory.py measures the resident
memory over 300 cycles (docs/benchmarks.md, "Window memory")."""

from __future__ import annotations

import gc
import weakref

from engine.config import RunConfig
from gui.native_memory import limit_malloc_arenas
from tests.engine.session_support import single_torch_thread
from tests.gui.conftest import tiny_config, train_and_wait


def _configs() -> int:
    gc.collect()
    return sum(isinstance(o, RunConfig) for o in gc.get_objects())


def test_a_finished_runs_worker_and_job_are_released(qtbot, window):
    workers = []

    def train_once():
        cfg = tiny_config(**{"optim.epochs": 1})
        window.settings_panel.set_config(cfg)
        window.controls_panel.train_button.click()
        qtbot.waitUntil(window.controller.is_running)
        workers.append(weakref.ref(window.controller.job.worker))
        qtbot.waitUntil(lambda: not window.controller.is_running(), timeout=30_000)

    with single_torch_thread():
        train_once()
        train_once()
        before = _configs()
        for _ in range(3):
            train_once()
    qtbot.wait(50)          # the jobs' deleteLater, then the collector
    gc.collect()
    assert [w() is None for w in workers] == [True] * len(workers)
    assert _configs() <= before               # not one more config per run


def test_the_window_caps_the_malloc_arenas(window):
    import sys
    # MainWindow did it (once per process): on glibc the cap is in place.
    assert limit_malloc_arenas() == sys.platform.startswith("linux")
