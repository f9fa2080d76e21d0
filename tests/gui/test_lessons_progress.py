"""How far a lesson has trained (Qt-free): which run, stage and epoch, from the events
``run_lesson`` forwards; the fraction only moves forward and each run has its share."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.events import EpochEnded, JobStarted, RunOpened, RunPlan, StepMetrics
from engine.lessons import LessonRunOpened
from gui.run.coalescing import MetricsBatch
from gui.lessons.progress import LessonProgress


def opened(index: int, total: int, label: str, kept: bool = False) -> LessonRunOpened:
    return LessonRunOpened(lesson="l", label=label, index=index, total=total,
                           path=Path(f"{label}.h5"), kept=kept)


def started(total_epochs: int, start_epoch: int = 1):
    """A RunStarted with only what the progress reads (the rest is not looked at)."""
    from engine.events import RunStarted
    return RunStarted(config=None, device="cpu", n_parameters=0, term_names=("total",),
                      data=None, steps_per_epoch=4, start_epoch=start_epoch, start_step=0,
                      total_epochs=total_epochs)


def batch(epoch: int, b: int, batches: int = 4) -> MetricsBatch:
    last = StepMetrics(epoch=epoch, step=b, batch=b, batches=batches, terms={"total": 1.0},
                       samples_per_sec=1.0, wall_time=0.0)
    one = np.array([b])
    return MetricsBatch(steps=one, epochs=np.array([epoch]), wall_time=one * 0.0,
                        terms={"total": one * 1.0}, last=last)


def ended(epoch: int) -> EpochEnded:
    return EpochEnded(epoch=epoch, step=epoch * 4, train={}, val={}, wall_time=0.0,
                      samples_per_sec=1.0)


def test_each_run_of_the_lesson_has_its_share_and_the_bar_only_moves_forward():
    p = LessonProgress()
    assert p.fraction == 0.0 and p.words() == "Starting…"
    p.on_event(opened(0, 2, "undercomplete", kept=True))   # saved: nothing trains
    assert p.current is None
    p.on_event(opened(1, 2, "overcomplete"))
    p.on_event(started(total_epochs=4))
    assert p.fraction == 0.5
    seen = []
    for epoch in range(1, 5):
        for b in (2, 4):
            p.on_event(batch(epoch, b))
            seen.append(p.fraction)
        p.on_event(ended(epoch))
        seen.append(p.fraction)
    assert seen == sorted(seen)
    assert p.fraction == 1.0
    p.on_event(batch(4, 2))        # a late batch of the last epoch does not move it back
    assert p.fraction == 1.0
    assert p.words() == "Training overcomplete (run 2 of 2) · epoch 4 of 4"
    # halfway through epoch 3 of 4 of the first of three runs
    q = LessonProgress()
    q.on_event(opened(0, 3, "a"))
    q.on_event(started(total_epochs=4))
    q.on_event(batch(3, 2))
    assert q.fraction == (2 + 0.5) / 4 / 3


def test_a_jobs_stages_divide_their_runs_share():
    p = LessonProgress()
    p.on_event(opened(0, 2, "stack"))
    plan = (RunPlan("stage-1", "stage 1 (784→16)", "stage"),
            RunPlan("stage-2", "stage 2 (16→8)", "stage"))
    p.on_event(JobStarted(job_id="pretrain", kind="pretrain", title="greedy", spec_json="{}",
                          runs=plan))
    p.on_event(RunOpened(job_id="pretrain", run_id="stage-2"))
    p.on_event(started(total_epochs=2))
    p.on_event(ended(1))
    # run 1 of 2, stage 2 of 2, epoch 1 of 2 done: (1 + 1/2) / 2 of the run's half
    assert p.fraction == (1 + 0.5) / 2 / 2
    assert p.words() == ("Training stack (run 1 of 2) · stage 2 (16→8) (2 of 2) · "
                         "epoch 1 of 2")
