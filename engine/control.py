"""Thread-safe pause / resume / stop flags, checked by the trainer between batches."""

from __future__ import annotations

import threading


class TrainingControl:
    """Shared between the thread that trains and the one that steers it (GUI, signal handler).

    The trainer calls :meth:`checkpoint` before every batch: it returns at once
    unless paused, blocks while paused, and returns True when a stop was asked.
    A Stop press therefore takes effect within one batch, also while paused.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._paused = False
        self._stop = False

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stop_requested(self) -> bool:
        return self._stop

    def checkpoint(self) -> bool:
        """Block while paused; True when the run should stop now."""
        if not self._paused:  # fast path: no lock per batch when running freely
            return self._stop
        with self._cond:
            while self._paused and not self._stop:
                self._cond.wait(timeout=0.5)
            return self._stop
