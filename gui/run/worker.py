"""The one bridge from the engine to Qt: any ``run(emit, control)`` callable on its own thread.

:class:`Worker` lives on a ``QThread``. It calls its job there — a
trainer, a greedy pretraining, a comparison: anything with the engine's
``run(emit, control)`` shape (Orange3's ``concurrent`` and superqt's
workers are the model) — and forwards its events to the GUI as one queued
signal: step metrics coalesced to a few batches a second, everything else as
it comes. Recording is the job's own: the engine's job runner
(:func:`engine.jobs.run_job`) hands each event to the session writer before
the worker hears of it. :class:`Job` owns the thread and the worker
and is what the controller talks to.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from engine.control import TrainingControl
from engine.errors import StudioError
from engine.events import Emit, Event, RunFailed, StepMetrics
from gui.run.coalescing import DEFAULT_INTERVAL, StepCoalescer

log = logging.getLogger(__name__)

#: How much lower the training thread's OS priority is than the GUI's (Linux nice
#: steps). When the machine is busy the GUI thread then wins the CPU and stays
#: responsive; on an idle machine it changes nothing. See bench_gui_latency.py.
TRAINING_NICE = 5

#: Called on the training thread: builds the job (loading data takes a moment) and runs it.
RunCallable = Callable[[Emit, TrainingControl], object]


class _FlushingControl(TrainingControl):
    """A control that hands over buffered metrics before it blocks on pause.

    Without it the last few steps before a pause would wait, unseen, until
    the run resumed.
    """

    def __init__(self, flush: Callable[[], None]):
        super().__init__()
        self._flush = flush

    def should_stop(self) -> bool:
        if self.paused:
            self._flush()
        return super().should_stop()


class Worker(QObject):
    """Runs one job on its thread and reports through :attr:`event`.

    Parameters
    ----------
    job : ``job(emit, control)``, called on the training thread.
    interval : minimum seconds between two metrics batches.
    nice : lower the training thread's priority by this much (0: leave it;
        None: :data:`TRAINING_NICE`, read when the worker is made).

    Signals
    -------
    event(object) : every engine event, in order; step metrics arrive as
        ``MetricsBatch``. A job that cannot start (bad data, a missing device)
        sends a ``RunFailed``.
    problem(str) : the job reports a problem it carries on after (its session file could
        not be written); the message. Emitted from the training thread.
    done() : always last, whatever happened.
    """

    event = Signal(object)
    problem = Signal(str)
    done = Signal()

    def __init__(self, job: RunCallable, interval: float = DEFAULT_INTERVAL,
                 nice: int | None = None):
        super().__init__()
        self._job = job
        self.nice = TRAINING_NICE if nice is None else nice
        self._coalescer = StepCoalescer(interval)
        self.control = _FlushingControl(self._flush)

    # -- runs on the training thread ---------------------------------------------
    @Slot()
    def run(self) -> None:
        """Build and run the job; every outcome ends with :attr:`done`."""
        lower_thread_priority(self.nice)
        try:
            self._job(self._on_event, self.control)   # one stopped already returns at once
        except StudioError as e:  # bad data file, device missing, bad config
            self.event.emit(RunFailed(message=str(e), epoch=0, step=0))
        except Exception as e:  # a bug: say so in the window rather than die silently
            log.exception("training worker failed")
            self.event.emit(RunFailed(
                message=f"training could not start: {type(e).__name__}: {e}", epoch=0, step=0))
        finally:
            self._flush()
            self.done.emit()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, StepMetrics):
            if self._coalescer.add(event):
                self._flush()
            return
        self._flush()  # keep order: steps before the epoch end that follows them
        self.event.emit(event)

    def _flush(self) -> None:
        batch = self._coalescer.take()
        if batch is not None:
            self.event.emit(batch)


def lower_thread_priority(nice: int) -> None:
    """Raise the calling thread's nice value by ``nice`` (Linux; elsewhere nothing).

    On Linux each thread has its own nice value, and threads it starts
    (torch's worker pool) inherit it.
    """
    if nice <= 0 or not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)
    except OSError as e:  # not allowed here: train at normal priority
        log.info("cannot lower the training thread's priority: %s", e)


class Job(QObject):
    """A worker on its own thread: start, pause, resume, stop, shut down.

    Connect to ``job.worker``'s signals before :meth:`start`. The thread
    quits by itself when the worker is done; :attr:`finished` follows once the
    thread has wholly ended, so its receiver may drop the job at once.
    """

    finished = Signal()

    def __init__(self, worker: Worker, parent: QObject | None = None):
        super().__init__(parent)
        self.worker = worker
        self.thread = QThread(self)  # a child: destroyed with the job, on the GUI thread
        self.thread.setObjectName("training-thread")
        # The worker stays on the GUI thread, its run() called on the training thread by a
        # direct connection. Moved to the training thread, a worker (an object whose class
        # has signals with arguments) was kept by PySide for good, and with it every run's
        # job; see tests/gui/test_window_memory.py. It still emits from the training thread
        # (queued to the GUI's receivers), and it ends its life on the GUI thread.
        self.thread.started.connect(worker.run, Qt.DirectConnection)
        worker.done.connect(self.thread.quit)
        self.thread.finished.connect(self._on_thread_finished)

    @Slot()
    def _on_thread_finished(self) -> None:
        # QThread.finished is sent while the thread is still winding down. Wait
        # for its very end here, where PySide's wait() lets go of the GIL: were
        # the QThread destroyed before that, its destructor would wait holding
        # the GIL, against a thread that may need it to finish.
        self.thread.wait()
        self.finished.emit()

    @property
    def control(self) -> TrainingControl:
        return self.worker.control

    def start(self) -> None:
        self.thread.start()

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def stop(self) -> None:
        """Ask the job to stop; it does so before its next batch."""
        self.control.stop()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop and wait for the thread to end (at window close). True when it ended."""
        self.control.stop()
        if not self.thread.isRunning():
            return True
        self.thread.quit()
        return self.thread.wait(timeout_ms)
