"""Starting, steering and ending every job of the window, each recorded in a session file.

:class:`RunController` owns the window's one job at a time — a run, a
greedy pretraining, a pretrained-versus-random comparison, or the
continuation of any of them. It picks the session file, opens its
:class:`~engine.session.SessionWriter`, starts a :class:`~gui.run.worker.Job` that
runs the job through the engine's one job runner (:func:`engine.jobs.run_job`:
the writer hears every event first, on the training thread), feeds the worker's
events to the :class:`~gui.run.model.RunModel` and the progress bar, and turns
outcomes into messages. The jobs themselves are the engine's; each is a plain
``job(emit, control)`` callable built on the training thread (loading data
takes a moment).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine.config import RunConfig
from engine.control import TrainingControl
from engine.errors import SessionError
from engine.events import Emit, RunFailed, RunFinished, RunStarted
from engine.jobs import Job as EngineJob, continue_job, new_job, run_job
from engine.pretraining.comparison import Comparison, classifier_config, encoder_source
from engine.session import Session, SessionWriter
from gui.preferences import Preferences
from gui.run.coalescing import MetricsBatch
from gui.run.model import RunModel, short_name
from gui.run.worker import Job, Worker

log = logging.getLogger(__name__)


def comparison_job(path: Path, run_id: str | None, budgets: list, epochs: int,
                   freeze: bool, versus: list[Path] = ()) -> EngineJob:
    """Classifiers on a session run's encoder (and on those of ``versus``' sessions), each
    pretrained one versus random, into the same file."""
    def job(emit: Emit, control: TrainingControl):
        from engine.config import OptimConfig
        from engine.pretraining.comparison import DEFAULT_OPTIM
        with Session.open(path) as session:
            source = encoder_source(session, run_id)
        sources = [source]
        for other in versus:
            with Session.open(other) as session:
                sources.append(encoder_source(session))
        optim = OptimConfig(epochs=epochs, batch_size=DEFAULT_OPTIM.batch_size,
                            lr=DEFAULT_OPTIM.lr)
        template = classifier_config(source.config, optim, freeze=freeze)
        return Comparison(sources, budgets, template).run(emit, control)
    return job


#: the controller's states (``RunController.state``)
IDLE, RUNNING, PAUSED, STOPPING = "idle", "running", "paused", "stopping"


class RunController(QObject):
    """Runs one job at a time.

    Signals
    -------
    state_changed(str) : idle, running, paused or stopping.
    message(str, str) : text and kind (``'error'`` or ``'info'``) for the user.
    session_written(str) : the path of a session file that now exists.
    run_started(RunStarted, str) : a training call starts; the words for which run of a
        job it is (``"stage 2 (2 of 3) · "``, or "").
    step_logged(StepMetrics) : the last logged step of a batch of them.
    progress_text(str) : how the job stands, in a few words (for the progress bar).
    """

    state_changed = Signal(str)
    message = Signal(str, str)
    session_written = Signal(str)
    run_started = Signal(object, str)
    step_logged = Signal(object)
    progress_text = Signal(str)

    def __init__(self, model: RunModel, preferences: Preferences,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.model, self.preferences = model, preferences
        self.job: Job | None = None
        self.kind = ""
        self.state = IDLE
        self.session_path: Path | None = None
        self._outcome: str | None = None
        self._announced = False
        self.slow: float = 0.0   # slow motion's seconds between steps (0: off)

    @property
    def outcome(self) -> str | None:
        """How the last run of the job ended: ``"completed"``, ``"stopped"``, ``"failed"``
        (None before any ended)."""
        return self._outcome

    # -- starting -----------------------------------------------------------------------
    def start_new(self, config: RunConfig) -> bool:
        """Train ``config`` from scratch (greedily, for a pretraining config), recorded in a
        new session file in the session folder."""
        if self.job is not None:
            return False
        # The file name says what it holds: a stack is opened for different views.
        name = config.name if config.pretraining is None or "pretrain" in config.name \
            else f"{config.name}-pretraining"
        path = self.preferences.new_session_path(name)
        writer = self._writer(path, append=False)
        self.model.clear()
        self.model.session_path = path if writer else None
        kind = "pretrain" if config.pretraining is not None else "train"
        return self._launch(kind, new_job(config), writer, path if writer else None)

    def continue_session(self, path: Path, epochs: int | None,
                         run_id: str | None = None) -> bool:
        """Continue the session at ``path``: an unfinished job where it stopped, else
        ``epochs`` more epochs of ``run_id`` (default: its main run)."""
        if self.job is not None:
            return False
        writer = self._writer(Path(path), append=True)
        if writer is None:
            return False
        self._release_files()
        with Session.open(path) as session:
            self.model.load_session(session)
        self._release_files()
        return self._launch("train", continue_job(Path(path), epochs=epochs, run_id=run_id),
                            writer, Path(path))

    def start_comparison(self, path: Path, run_id: str | None, budgets: list, epochs: int,
                         freeze: bool, versus: list[Path] = ()) -> bool:
        """Classifiers on the encoder of ``path``'s run, pretrained versus random, their
        runs added to that file (and shown: the file becomes the session on display)."""
        if self.job is not None:
            return False
        writer = self._writer(Path(path), append=True)
        if writer is None:
            return False
        if self.model.session_path is None or Path(self.model.session_path) != Path(path):
            self._release_files()
            with Session.open(path) as session:
                self.model.load_session(session)
        self._release_files()
        return self._launch("finetune", comparison_job(Path(path), run_id, budgets, epochs,
                                                       freeze, list(versus)), writer,
                            Path(path))

    def _writer(self, path: Path, append: bool) -> SessionWriter | None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return SessionWriter(path, append=append,
                                 weights_budget=self.preferences.weights_budget)
        except (SessionError, OSError) as e:
            if append:
                self.message.emit(f"Cannot add training to this session: {e}", "error")
            else:
                self.message.emit(f"This run will not be saved: {e} (change the session "
                                  f"folder in File > Session folder…)", "error")
            return None

    def _release_files(self) -> None:
        """Let go of the displayed session's file: the writer replaces it (each later
        read opens the newest version for a moment)."""
        for run in self.model.runs.values():
            if run.stored is not None:
                run.stored.session.release()

    def _launch(self, kind: str, job: EngineJob, writer: SessionWriter | None,
                session_path: Path | None) -> bool:
        self.session_path = session_path
        self.kind = kind
        self._outcome = None
        self._announced = False
        self._stop_asked = False

        def run(emit: Emit, control: TrainingControl) -> None:
            # A full disk must not end the run: it goes on unsaved, and the window says so.
            run_job(job, emit, control, writer=writer,
                    on_writer_failed=worker.problem.emit)

        worker = Worker(run)
        worker.control.set_slow(self.slow)
        worker.event.connect(self._on_event)
        worker.problem.connect(self._on_writer_failed)
        self.job = Job(worker, self)
        self.job.finished.connect(self._on_job_finished)
        self.model.may_build_decoders = False
        self._set_state(RUNNING)
        self.progress_text.emit("loading data…")
        self.job.start()
        return True

    # -- steering -------------------------------------------------------------------------
    def pause(self) -> None:
        if self.job is not None and self.state == RUNNING:
            self.job.pause()
            self._set_state(PAUSED)

    def resume(self) -> None:
        if self.job is not None and self.state == PAUSED:
            self.job.resume()
            self._set_state(RUNNING)

    def step(self) -> None:
        """One training step, then paused; every view shows the model after it."""
        if self.job is not None and self.state in (RUNNING, PAUSED):
            self.job.control.step_once()
            self._set_state(PAUSED)

    def set_slow(self, interval: float) -> None:
        """Slow motion: ``interval`` seconds between steps, each shown (0: off); it holds
        for the runs that follow too."""
        self.slow = interval
        if self.job is not None:
            self.job.control.set_slow(interval)

    def stop(self) -> None:
        if self.job is not None and self.state in (RUNNING, PAUSED):
            self._stop_asked = True
            self.job.stop()
            self._set_state(STOPPING)

    def shutdown(self, timeout_ms: int = 15_000) -> bool:
        """Stop and wait for the training thread (window closing). True when it ended."""
        if self.job is None:
            return True
        ended = self.job.shutdown(timeout_ms)
        if not ended:
            log.error("the training thread did not stop within %d ms", timeout_ms)
        return ended

    def is_running(self) -> bool:
        return self.job is not None

    # -- worker events ------------------------------------------------------------------
    def _on_event(self, ev) -> None:
        self.model.on_event(ev)
        if isinstance(ev, MetricsBatch):
            self.step_logged.emit(ev.last)
        elif isinstance(ev, RunStarted):
            self.model.may_build_decoders = True
            if self.session_path is not None and not self._announced:
                self._announced = True
                self.session_written.emit(str(self.session_path))
            self.run_started.emit(ev, self._prefix())
        elif isinstance(ev, RunFinished):
            self._outcome = ev.reason
        elif isinstance(ev, RunFailed):
            self._outcome = "failed"
            self.model.may_build_decoders = True
            self.progress_text.emit("training failed")
            self.message.emit(ev.message, "error")

    def _prefix(self) -> str:
        """``"stage 2 of 3 · "`` while a job trains its runs, else nothing."""
        plan = self.model.plan
        run = self.model.live_run
        if len(plan) < 2 or run is None:
            return ""
        ids = [p.run_id for p in plan]
        n = ids.index(run.run_id) + 1 if run.run_id in ids else 0
        return f"{short_name(run.plan)} ({n} of {len(plan)}) · "

    def _on_writer_failed(self, text: str) -> None:
        self.message.emit(f"The session file could not be written, training goes on "
                          f"unsaved: {text}", "error")

    def _on_job_finished(self) -> None:
        self.job.deleteLater()  # its thread has ended; nothing refers to it any more
        self.job = None
        self.model.may_build_decoders = True
        outcome = self._outcome
        planned = [p.run_id for p in self.model.plan]
        unfinished = any(self.model.runs.get(r) is None or self.model.runs[r].status != "completed"
                         for r in planned)
        if outcome == "completed" and self._stop_asked and unfinished:
            outcome = "stopped"   # stopped between two runs of a job
        self._report(outcome)
        self._set_state(IDLE)

    def _report(self, outcome: str | None) -> None:
        """The outcome in the progress bar and the message strip (a failure said its own)."""
        where = f" Session: {self.session_path}" if self.session_path else ""
        if outcome not in ("completed", "stopped"):
            return
        if self.kind == "pretrain":
            stages = sum(r.plan.role == "stage" and r.status == "completed"
                         for r in self.model.runs.values())
            if outcome == "completed":
                self.progress_text.emit(f"Pretraining completed: {stages} stage(s) stacked")
                self.message.emit(f"Pretraining completed: {stages} stage(s) stacked.{where} "
                                  "Next: the Fine-tuning tab compares a classifier on this "
                                  "encoder with one from random weights.", "info")
            else:
                self.progress_text.emit("Pretraining stopped")
                self.message.emit(f"Pretraining stopped after {stages} completed stage(s); "
                                  f"Continue finishes it.{where}", "info")
            return
        run = self.model.live_run
        if self.kind == "finetune":
            verb = "completed" if outcome == "completed" else "stopped"
            self.progress_text.emit(f"Fine-tuning comparison {verb}")
            return
        verb = "Training completed" if outcome == "completed" else "Training stopped"
        at = f" at epoch {run.last_epoch}" if run is not None else ""
        step = f" (step {run.last_step:,})" if run is not None else ""
        self.progress_text.emit(f"{verb}{at}{step}")
        self.message.emit(f"{verb}{at}.{where}", "info")

    def _set_state(self, state: str) -> None:
        self.state = state
        self.state_changed.emit(state)
