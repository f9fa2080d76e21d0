"""Gathering per-step metrics into batches, so the GUI repaints at a human rate.

The trainer may log hundreds of steps a second; a widget update per step
would flood the GUI thread. :class:`StepCoalescer` collects
:class:`~engine.events.StepMetrics` on the training thread and hands them
over as one :class:`MetricsBatch` of numpy arrays at most every
``interval`` seconds. It has no Qt in it, so it is tested without a display.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from engine.events import StepMetrics

#: At most 8 batches a second: twice as often as the fastest reader (the loss plot
#: redraws at most 4 times a second, the progress bar too), so neither waits long.
#: Each batch costs the GUI thread, and so the training thread (the GIL), about
#: a millisecond; at 30 a second they were 2 % of a run.
DEFAULT_INTERVAL = 1.0 / 8.0


@dataclass(frozen=True)
class MetricsBatch:
    """Consecutive logged steps, as arrays.

    Attributes
    ----------
    steps : (K,) int64 optimiser step of each row.
    epochs : (K,) int64 epoch of each row.
    wall_time : (K,) float64 seconds of training.
    terms : term name -> (K,) float64 value of each row.
    last : the newest event, for the progress display.
    """

    steps: np.ndarray
    epochs: np.ndarray
    wall_time: np.ndarray
    terms: dict[str, np.ndarray]
    last: StepMetrics

    def __len__(self) -> int:
        return int(self.steps.shape[0])


class StepCoalescer:
    """Buffers step events; :meth:`add` says when a batch is due.

    Parameters
    ----------
    interval : minimum seconds between two batches.
    clock : a monotonic clock (a parameter so tests can drive time).
    """

    def __init__(self, interval: float = DEFAULT_INTERVAL, clock=time.perf_counter):
        self.interval = interval
        self._clock = clock
        self._events: list[StepMetrics] = []
        self._last_flush = clock()

    def add(self, event: StepMetrics) -> bool:
        """Keep ``event``; True when ``interval`` has passed since the last batch."""
        self._events.append(event)
        return self._clock() - self._last_flush >= self.interval

    def take(self) -> MetricsBatch | None:
        """The buffered events as a batch (None when there are none); empties the buffer."""
        self._last_flush = self._clock()
        events, self._events = self._events, []
        if not events:
            return None
        names = list(events[-1].terms)
        return MetricsBatch(
            steps=np.fromiter((e.step for e in events), np.int64, len(events)),
            epochs=np.fromiter((e.epoch for e in events), np.int64, len(events)),
            wall_time=np.fromiter((e.wall_time for e in events), np.float64, len(events)),
            terms={k: np.fromiter((e.terms.get(k, np.nan) for e in events), np.float64,
                                  len(events)) for k in names},
            last=events[-1])
