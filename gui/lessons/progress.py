"""How far a lesson has trained, from its events: which run, which stage, which epoch.

Qt-free. ``run_lesson`` sends a ``LessonRunOpened`` before each of its runs
(index and total; ``kept`` for a run already saved, which does not train),
then that run's events: a plain run's ``RunStarted`` … ``RunFinished``, a
job's ``JobStarted`` (its plan of runs) and a ``RunOpened`` before each of
them. :class:`LessonProgress` folds them into one fraction that only moves
forward within a run — run *i* of *n* covers [i/n, (i+1)/n), a job's stage
*k* of *m* its own share of that — and a line of words.
"""

from __future__ import annotations

from engine.events import (EpochEnded, JobStarted, RunFailed, RunFinished, RunOpened,
                           RunStarted)
from engine.lessons import LessonRunOpened
from gui.run.coalescing import MetricsBatch


class LessonProgress:
    """The progress of one ``run_lesson`` call (see the module docstring).

    Attributes
    ----------
    current : the ``LessonRunOpened`` of the run being trained (None before the first).
    epoch, epochs : the epoch being trained and the epochs of the run (or stage).
    stage : the job's run being trained (its title), "" for a plain run.
    """

    def __init__(self):
        self.current: LessonRunOpened | None = None
        self.epoch = 0
        self.epochs = 0
        self.stage = ""
        self._plan: list[str] = []           # a job's run ids, in order
        self._titles: dict[str, str] = {}
        self._stage_index = 0
        self._within = 0.0                   # fraction of the current run or stage
        self.ended = ""                      # "finished" / "failed" once the last run ended

    def on_event(self, ev) -> None:
        """Take one event as the worker forwards it (metrics come as a ``MetricsBatch``)."""
        if isinstance(ev, LessonRunOpened):
            if not ev.kept:
                self.current = ev
                self.epoch = self.epochs = 0
                self.stage, self._plan, self._stage_index, self._within = "", [], 0, 0.0
        elif isinstance(ev, JobStarted):
            self._plan = [p.run_id for p in ev.runs]
            self._titles = {p.run_id: p.title for p in ev.runs}
        elif isinstance(ev, RunOpened):
            if ev.run_id in self._plan:
                self._stage_index = self._plan.index(ev.run_id)
                self.stage = self._titles.get(ev.run_id, ev.run_id)
                self._within = 0.0
        elif isinstance(ev, RunStarted):
            self.epoch, self.epochs = ev.start_epoch, ev.total_epochs
            self._within = (ev.start_epoch - 1) / max(1, ev.total_epochs)
        elif isinstance(ev, MetricsBatch):
            last = ev.last
            batch = last.batch / last.batches if last.batches else 0.0
            self.epoch = last.epoch
            self._advance((last.epoch - 1 + batch) / max(1, self.epochs))
        elif isinstance(ev, EpochEnded):
            self.epoch = ev.epoch
            self._advance(ev.epoch / max(1, self.epochs))
        elif isinstance(ev, (RunFinished, RunFailed)):
            self.ended = "failed" if isinstance(ev, RunFailed) else "finished"

    def _advance(self, within: float) -> None:
        self._within = max(self._within, min(1.0, within))

    @property
    def fraction(self) -> float:
        """Of the whole lesson, in [0, 1]."""
        cur = self.current
        if cur is None:
            return 0.0
        stages = max(1, len(self._plan))
        run = (self._stage_index + self._within) / stages if self._plan else self._within
        return min(1.0, (cur.index + run) / max(1, cur.total))

    def words(self) -> str:
        """``Training overcomplete (run 2 of 2) · epoch 3 of 10``."""
        cur = self.current
        if cur is None:
            return "Starting…"
        stage = ""
        if self._plan:
            stage = f" · {self.stage or 'starting'} ({self._stage_index + 1} of {len(self._plan)})"
        where = f" · epoch {self.epoch} of {self.epochs}" if self.epochs else " · starting"
        return f"Training {cur.label} (run {cur.index + 1} of {cur.total}){stage}{where}"
