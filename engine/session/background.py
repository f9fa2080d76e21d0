"""One job at a time on a background thread, its error handed back on the next wait.

Used to publish session commits (fsync, rename, catch-up writes) while the
training thread goes on: that work waits on the disk and holds the GIL only
briefly, so it overlaps training instead of adding to it. (The HDF5 writes
themselves stay on the training thread: h5py's Python layer holds the GIL
in many short stretches, and a second thread doing that makes the training
thread wait for the GIL far more than the writes themselves cost.)
"""

from __future__ import annotations

import threading
import time
from typing import Callable


IDLE_SECONDS = 2.0  # a worker with nothing to do for this long ends (a new one starts on demand)


class BackgroundJob:
    """Runs submitted functions one at a time on a worker thread.

    The worker is an ordinary (non-daemon) thread, so a job in flight when
    the program ends is finished, not cut off; it ends by itself once idle.

    Parameters
    ----------
    name : thread name, for debugging.
    enabled : False runs each job on the caller's thread at once.

    Attributes
    ----------
    cpu_seconds : CPU time the jobs took on the worker (for benchmarks).
    """

    def __init__(self, name: str, enabled: bool = True):
        self.name = name
        self.enabled = enabled
        self.cpu_seconds = 0.0
        self._job: Callable[[], None] | None = None
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, job: Callable[[], None]) -> None:
        """Start ``job`` after the previous one finished (raising its error, if any)."""
        self.wait()
        if not self.enabled:
            self._run(job)
            self.wait()
            return
        with self._cond:
            self._job = job
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self.name)
                self._thread.start()
            self._cond.notify_all()

    def wait(self) -> None:
        """Wait for the job in flight; raise its error if it failed."""
        with self._cond:
            while self._job is not None:
                self._cond.wait()
            error, self._error = self._error, None
        if error is not None:
            raise error

    def _work(self) -> None:
        while True:
            with self._cond:
                if self._job is None and not self._cond.wait_for(
                        lambda: self._job is not None, timeout=IDLE_SECONDS):
                    self._thread = None
                    return
                job = self._job
            self._run(job)
            with self._cond:
                self._job = None
                self._cond.notify_all()

    def _run(self, job: Callable[[], None]) -> None:
        t = time.thread_time()
        try:
            job()
        except BaseException as e:  # noqa: BLE001 - handed to the caller by wait()
            self._error = e
        finally:
            self.cpu_seconds += time.thread_time() - t
