"""Thread-safe pause / resume / stop, one step at a time and slow motion, checked by the trainer
between batches."""

from __future__ import annotations

import threading
import time


class TrainingControl:
    """Shared between the thread that trains and the one that steers it (GUI, signal handler).

    The trainer calls :meth:`should_stop` before every batch: it returns at once
    unless paused or slowed, blocks while paused, and returns True when a stop
    was asked. A Stop press therefore takes effect within one batch, also while
    paused.

    Slow motion (GAN Lab's): :meth:`step_once` lets one batch through a paused
    run; :meth:`set_slow` lets batches through at most one per interval. After
    each such step :meth:`preview_due` is True once, and the trainer shows the
    model as it is then (an :class:`~engine.events.EpochSnapshot` with
    ``preview=True``) so that every view follows the single step.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._paused = False
        self._stop = False
        self._steps = 0                    # batches a paused run may still take
        self._slow: float | None = None    # seconds between batches in slow motion
        self._last = 0.0                   # when the last batch was let through
        self._preview = False

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._steps = 0
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def step_once(self) -> None:
        """Let a paused run take one batch, then pause again (a running run pauses first)."""
        with self._cond:
            self._paused = True
            self._steps += 1
            self._cond.notify_all()

    def set_slow(self, interval: float | None) -> None:
        """Slow motion: at most one batch per ``interval`` seconds, each shown (None: off)."""
        with self._cond:
            self._slow = None if not interval or interval <= 0 else float(interval)
            self._cond.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def slow(self) -> float | None:
        return self._slow

    @property
    def stop_requested(self) -> bool:
        return self._stop

    def should_stop(self) -> bool:
        """Block while paused (or until slow motion's next step); True when the run should
        stop now."""
        if not self._paused and self._slow is None:  # fast path: no lock per batch
            return self._stop
        with self._cond:
            while not self._stop:
                if self._paused:
                    if self._steps > 0:
                        self._steps -= 1
                        self._preview = True
                        break
                    self._cond.wait(timeout=0.5)
                    continue
                if self._slow is None:
                    break
                wait = self._last + self._slow - time.monotonic()
                if wait <= 0:
                    self._preview = True
                    break
                self._cond.wait(timeout=min(wait, 0.5))
            self._last = time.monotonic()
            return self._stop

    def preview_due(self) -> bool:
        """True once after a batch that a single step or slow motion let through: the views
        should show the model after it."""
        if not self._preview:
            return False
        with self._cond:
            due, self._preview = self._preview, False
            return due
