"""Starting, steering and ending training runs, each recorded in a session file.

:class:`RunController` is the GUI's side of a run's life: it picks the
session file, starts a :class:`~gui.worker.TrainingRun` with a
:class:`~engine.session.SessionWriter` listening on the training thread,
feeds the worker's signals to the :class:`~gui.run_display.RunDisplay` and
the progress bar, and turns outcomes into messages. The training itself is
the engine's. Greedy pretraining runs the same way, with a
:class:`~gui.pretrain_worker.PretrainingWorker` recording into a pretraining
file and a :class:`~gui.pretrain_display.PretrainDisplay` showing it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine.config import RunConfig
from engine.errors import ConfigError, SessionError
from engine.events import RunFailed, RunFinished, RunStarted
from engine.pretraining import PretrainConfig, PretrainRecorder
from engine.pretraining.events import PretrainFinished, StageStarted
from engine.session import SessionWriter
from gui.coalescing import MetricsBatch
from gui.panels.run_controls import IDLE, PAUSED, RUNNING, STOPPING, RunControlsPanel
from gui.panels.stage_summary import stage_name
from gui.preferences import Preferences
from gui.pretrain_display import PretrainDisplay
from gui.pretrain_worker import PretrainingWorker
from gui.run_display import RunDisplay
from gui.worker import TrainerFactory, TrainingRun, TrainingWorker, new_run, resume_run

log = logging.getLogger(__name__)


class RunController(QObject):
    """Runs one training call at a time.

    Signals
    -------
    state_changed(str) : idle, running, paused or stopping.
    message(str, str) : text and kind (``'error'`` or ``'info'``) for the user.
    session_written(str) : the path of a session file that now exists.
    pretraining_written(str) : the path of a pretraining file that now exists.
    """

    state_changed = Signal(str)
    message = Signal(str, str)
    session_written = Signal(str)
    pretraining_written = Signal(str)

    def __init__(self, display: RunDisplay, controls: RunControlsPanel,
                 preferences: Preferences, parent: QObject | None = None,
                 pretrain_display: PretrainDisplay | None = None):
        super().__init__(parent)
        self.display, self.controls, self.preferences = display, controls, preferences
        self.pretrain_display = pretrain_display
        self.run: TrainingRun | None = None
        self.state = IDLE
        self.session_path: Path | None = None
        self._resuming = False
        self._outcome: str | None = None

    # -- starting -----------------------------------------------------------------------
    def start_new(self, config: RunConfig) -> bool:
        """Train ``config`` from scratch, recording it in a new session file."""
        path = self.preferences.new_session_path(config.name)
        writer = self._make_writer(path, append=False)
        self._resuming = False
        return self._start(new_run(config), writer, path if writer else None)

    def continue_session(self, path: Path, epochs: int) -> bool:
        """Train the session at ``path`` for ``epochs`` more epochs, appending to its file."""
        self.display.release()  # the writer replaces the file; reopen it on demand
        writer = self._make_writer(Path(path), append=True)
        if writer is None:
            return False
        self._resuming = True
        return self._start(resume_run(path, epochs), writer, Path(path))

    def _make_writer(self, path: Path, append: bool) -> SessionWriter | None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return SessionWriter(path, append=append)
        except (SessionError, OSError) as e:
            if append:
                self.message.emit(f"Cannot continue this session: {e}", "error")
            else:
                self.message.emit(f"This run will not be saved: {e} (change the session "
                                  f"folder in File > Session folder…)", "error")
            return None

    def start_pretraining(self, config: RunConfig) -> bool:
        """Greedy layer-wise pretraining of ``config`` (a RunConfig with a ``pretraining``
        section), recorded in a new pretraining file in the session folder."""
        if self.run is not None or self.pretrain_display is None:
            return False
        try:
            pcfg = PretrainConfig.from_run_config(config)
        except ConfigError as e:
            self.message.emit(str(e), "error")
            return False
        # The file name says what it holds: pretraining files open in other places than sessions.
        name = config.name if "pretrain" in config.name else f"{config.name}-pretraining"
        path = self.preferences.new_session_path(name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            recorder = PretrainRecorder(path)
        except (SessionError, OSError) as e:
            recorder = None
            self.message.emit(f"This run will not be saved: {e} (change the session "
                              f"folder in File > Session folder…)", "error")
        shown = self.pretrain_display
        worker = PretrainingWorker(pcfg, listeners=[recorder] if recorder else [])
        worker.stage_event.connect(shown.on_stage_event)
        worker.stage_event.connect(self._on_stage_event)
        worker.run_started.connect(self._on_stage_run_started)
        worker.metrics.connect(self._on_pretraining_metrics)
        worker.epoch_ended.connect(shown.on_epoch_ended)
        worker.snapshot.connect(shown.on_snapshot)
        worker.run_failed.connect(self._on_failed)
        worker.listener_failed.connect(self._on_listener_failed)
        self._resuming = False
        shown.expect_file(path if recorder else None)
        return self._launch(worker, path if recorder else None)

    def _start(self, factory: TrainerFactory, writer: SessionWriter | None,
               session_path: Path | None) -> bool:
        if self.run is not None:
            return False
        worker = TrainingWorker(factory, listeners=[writer] if writer else [])
        worker.run_started.connect(self._on_started)
        worker.metrics.connect(self._on_metrics)
        worker.epoch_ended.connect(self.display.on_epoch_ended)
        worker.snapshot.connect(self.display.on_snapshot)
        worker.run_finished.connect(self._on_finished)
        worker.run_failed.connect(self._on_failed)
        worker.listener_failed.connect(self._on_listener_failed)
        return self._launch(worker, session_path)

    def _launch(self, worker: TrainingWorker, session_path: Path | None) -> bool:
        """Start ``worker`` (its signals connected) on its own thread."""
        self.session_path = session_path
        self._outcome = None
        self.run = TrainingRun(worker, self)
        self.run.finished.connect(self._on_thread_finished)
        self._hold_decoder_building(True)
        self._set_state(RUNNING)
        self.controls.show_text("loading data…")
        self.run.start()
        return True

    # -- steering -------------------------------------------------------------------------
    def pause(self) -> None:
        if self.run is not None and self.state == RUNNING:
            self.run.pause()
            self._set_state(PAUSED)

    def resume(self) -> None:
        if self.run is not None and self.state == PAUSED:
            self.run.resume()
            self._set_state(RUNNING)

    def stop(self) -> None:
        if self.run is not None and self.state in (RUNNING, PAUSED):
            self.run.stop()
            self._set_state(STOPPING)

    def shutdown(self, timeout_ms: int = 15_000) -> bool:
        """Stop and wait for the training thread (window closing). True when it ended."""
        if self.run is None:
            return True
        ended = self.run.shutdown(timeout_ms)
        if not ended:
            log.error("the training thread did not stop within %d ms", timeout_ms)
        return ended

    def is_running(self) -> bool:
        return self.run is not None

    # -- worker signals ---------------------------------------------------------------
    def _hold_decoder_building(self, hold: bool) -> None:
        """Keep the GUI from drawing on torch's global RNG while the trainer seeds it.

        The trainer initialises its weights under ``torch.random.fork_rng`` and
        ``manual_seed``; a decoder built on the GUI thread meanwhile (replaying
        the previous run) would draw from the same generator and change them.
        """
        if self.display.record is not None:
            self.display.record.may_build_decoders = not hold

    def _on_started(self, ev: RunStarted) -> None:
        self._hold_decoder_building(False)
        if self._resuming and self.display.record is not None:
            self.display.continue_live(ev)
        else:
            self.display.begin_live(ev, self.session_path)
        if self.session_path is not None:
            self.session_written.emit(str(self.session_path))
        self.controls.start(ev)

    def _on_metrics(self, batch: MetricsBatch) -> None:
        self.display.on_metrics(batch)
        self.controls.update_step(batch.last)

    def _on_finished(self, ev: RunFinished) -> None:
        self._outcome = ev.reason
        where = f" Session: {self.session_path}" if self.session_path else ""
        verb = "Training completed" if ev.reason == "completed" else "Training stopped"
        self.controls.show_text(f"{verb} at epoch {ev.epoch} (step {ev.step:,})")
        self.message.emit(f"{verb} at epoch {ev.epoch}.{where}", "info")

    def _on_stage_run_started(self, ev: RunStarted) -> None:
        """A pretraining stage's trainer started (steps counted over the whole run)."""
        self._hold_decoder_building(False)
        self.pretrain_display.on_run_started(ev)
        if ev.stage == 1 and self.session_path is not None:
            self.pretraining_written.emit(str(self.session_path))
        self.controls.start(ev)

    def _on_pretraining_metrics(self, batch: MetricsBatch) -> None:
        self.pretrain_display.on_metrics(batch)
        self.controls.update_step(batch.last)

    def _on_stage_event(self, ev) -> None:
        if isinstance(ev, StageStarted):
            self.controls.show_text(f"{stage_name(ev.stage, ev.role)}: loading…")
        elif isinstance(ev, PretrainFinished):
            self._outcome = ev.outcome
            where = f", saved in {self.session_path.name}" if self.session_path else ""
            if ev.outcome == "completed":
                self.controls.show_text(f"Pretraining completed: {ev.stages_completed} "
                                        f"stage(s) stacked")
                self.message.emit(f"Pretraining completed: {ev.stages_completed} stage(s) "
                                  f"stacked{where}. Next: the Fine-tuning tab compares a "
                                  f"classifier on this encoder with one from random weights.",
                                  "info")
            elif ev.outcome == "stopped":
                self.controls.show_text("Pretraining stopped")
                self.message.emit(f"Pretraining stopped after {ev.stages_completed} completed "
                                  f"stage(s){where}.", "info")
            # "failed": the stage's RunFailed has already said why.

    def _on_failed(self, ev: RunFailed) -> None:
        self._hold_decoder_building(False)
        self._outcome = "failed"
        self.controls.show_text("training failed")
        self.message.emit(ev.message, "error")

    def _on_listener_failed(self, text: str) -> None:
        self.message.emit(f"The session file could not be written, training goes on "
                          f"unsaved: {text}", "error")

    def _on_thread_finished(self) -> None:
        self.run.deleteLater()  # its thread has ended; nothing refers to it any more
        self.run = None
        self._hold_decoder_building(False)
        self._set_state(IDLE)

    def _set_state(self, state: str) -> None:
        self.state = state
        self.controls.set_state(state)
        self.state_changed.emit(state)
