"""Train / Pause / Resume / Stop, slow motion (Step, Slow), and the progress bar with time
left, following the window's :class:`~gui.run.controller.RunController` (its state, the run
it starts, its steps and its words)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QProgressBar, QPushButton, QSpinBox,
                               QWidget)

from engine.events import RunStarted, StepMetrics
from gui.run.controller import IDLE, PAUSED, RUNNING, STOPPING, RunController
from gui.widgets.naming import named

PROGRESS_INTERVAL = 0.25   # seconds between progress bar updates


@dataclass
class ProgressEstimate:
    """Progress of one training call, from its start event and the newest step.

    Time left extrapolates the steps-per-second measured since the first
    step this call saw, so a resumed run's earlier time does not skew it.
    """

    total_epochs: int
    steps_per_epoch: int
    first_step: int | None = None
    first_wall: float = 0.0
    step: int = 0
    epoch: int = 0
    wall: float = 0.0
    samples_per_sec: float = 0.0
    prefix: str = ""        # which run of a job, e.g. "stage 2 of 3 · "

    @classmethod
    def from_start(cls, ev: RunStarted) -> "ProgressEstimate":
        return cls(total_epochs=ev.total_epochs, steps_per_epoch=ev.steps_per_epoch,
                   step=ev.start_step, epoch=ev.start_epoch)

    @property
    def total_steps(self) -> int:
        return self.total_epochs * self.steps_per_epoch

    def update(self, ev: StepMetrics) -> None:
        if self.first_step is None:
            self.first_step, self.first_wall = ev.step, ev.wall_time
        self.step, self.epoch, self.wall = ev.step, ev.epoch, ev.wall_time
        self.samples_per_sec = ev.samples_per_sec

    def seconds_left(self) -> float | None:
        if self.first_step is None or self.step <= self.first_step:
            return None
        per_step = (self.wall - self.first_wall) / (self.step - self.first_step)
        return max(0.0, (self.total_steps - self.step) * per_step)

    def text(self) -> str:
        left = self.seconds_left()
        left_text = "…" if left is None else _duration(left)
        return (f"{self.prefix}epoch {self.epoch}/{self.total_epochs} · "
                f"step {self.step:,}/{self.total_steps:,}"
                f" · {self.samples_per_sec:,.0f} samples/s · {left_text} left")


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class RunControlsPanel(QWidget):
    """The buttons that steer training and the bar that shows how far it is."""

    train_clicked = Signal()
    pause_clicked = Signal()
    resume_clicked = Signal()
    stop_clicked = Signal()
    continue_clicked = Signal(int)   # more epochs
    step_clicked = Signal()
    slow_changed = Signal(float)     # seconds between steps in slow motion; 0: off

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "runControlsPanel", "Run controls")
        self.train_button = named(QPushButton("Train"), "trainButton", "Train",
                                  "Train a new model with the run settings")
        self.pause_button = named(QPushButton("Pause"), "pauseButton", "Pause training")
        self.resume_button = named(QPushButton("Resume"), "resumeButton", "Resume training")
        self.stop_button = named(QPushButton("Stop"), "stopButton", "Stop training",
                                 "Stop after the current batch; the session keeps what was trained")
        self.continue_button = named(QPushButton("Continue"), "continueButton",
                                     "Continue training",
                                     "Train the displayed session for more epochs, "
                                     "appending to its file")
        self.step_button = named(QPushButton("Step"), "stepButton", "Take one training step",
                                 "Train one batch, then pause: every view shows the model "
                                 "after it (pauses a running run)")
        self.slow_check = named(QCheckBox("Slow"), "slowMotionCheck", "Slow motion",
                                "One training step at a time, every view updated after each")
        self.slow_spin = named(QSpinBox(), "slowMotionRateSpin", "Slow motion steps per second",
                               "Steps per second in slow motion")
        self.slow_spin.setRange(1, 30)
        self.slow_spin.setValue(4)
        self.slow_spin.setSuffix(" steps/s")
        self.more_epochs_spin = named(QSpinBox(), "moreEpochsSpin", "More epochs",
                                      "Epochs to add when continuing")
        self.more_epochs_spin.setRange(1, 100_000)
        self.more_epochs_spin.setValue(5)
        self.more_epochs_spin.setSuffix(" more epochs")
        self.train_button.setDefault(True)
        self.progress = named(QProgressBar(), "trainingProgress", "Training progress")
        self.progress.setTextVisible(True)
        self.progress.setMinimumWidth(180)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for b in (self.train_button, self.pause_button, self.resume_button, self.stop_button,
                  self.step_button, self.slow_check, self.slow_spin):
            layout.addWidget(b)
        layout.addWidget(self.progress, 1)
        layout.addWidget(self.continue_button)
        layout.addWidget(self.more_epochs_spin)
        self.train_button.clicked.connect(self.train_clicked)
        self.pause_button.clicked.connect(self.pause_clicked)
        self.resume_button.clicked.connect(self.resume_clicked)
        self.stop_button.clicked.connect(self.stop_clicked)
        self.step_button.clicked.connect(self.step_clicked)
        self.slow_check.toggled.connect(self._emit_slow)
        self.slow_spin.valueChanged.connect(self._emit_slow)
        self.continue_button.clicked.connect(
            lambda: self.continue_clicked.emit(self.more_epochs_spin.value()))
        self.can_continue = False
        self.estimate: ProgressEstimate | None = None
        self._last_shown = 0.0
        self.config_valid = True
        self.state = IDLE
        self.set_state(IDLE)
        self.show_ready()

    def set_state(self, state: str) -> None:
        """Enable the buttons that make sense in ``state`` (idle, running, paused, stopping)."""
        self.state = state
        self.train_button.setEnabled(state == IDLE and self.config_valid)
        self.pause_button.setEnabled(state == RUNNING)
        self.resume_button.setEnabled(state == PAUSED)
        self.stop_button.setEnabled(state in (RUNNING, PAUSED))
        self.step_button.setEnabled(state in (RUNNING, PAUSED))
        if state == PAUSED and self.estimate is not None:
            self.progress.setFormat(self.estimate.text() + " (paused)")
        elif state == STOPPING:
            self.progress.setFormat("stopping after this batch…")
        self.continue_button.setEnabled(state == IDLE and self.can_continue)
        self.more_epochs_spin.setEnabled(state == IDLE and self.can_continue)

    @property
    def slow_interval(self) -> float:
        """Seconds between steps in slow motion (0: off)."""
        return 1.0 / self.slow_spin.value() if self.slow_check.isChecked() else 0.0

    def _emit_slow(self, *_args) -> None:
        self.slow_changed.emit(self.slow_interval)

    def set_can_continue(self, can: bool) -> None:
        """Whether the displayed run has a session file to continue."""
        self.can_continue = can
        self.set_state(self.state)

    def follow(self, controller: RunController) -> None:
        """Show what ``controller`` does: its state in the buttons, its runs in the bar."""
        controller.state_changed.connect(self.set_state)
        controller.run_started.connect(self.start)
        controller.step_logged.connect(self.update_step)
        controller.progress_text.connect(self.show_text)

    def set_config_valid(self, valid: bool) -> None:
        self.config_valid = valid
        self.set_state(self.state)

    def start(self, ev: RunStarted, prefix: str = "") -> None:
        """A training call starts; ``prefix`` names the run of a job it is."""
        self.estimate = ProgressEstimate.from_start(ev)
        self.estimate.prefix = prefix
        self.progress.setRange(0, max(1, self.estimate.total_steps))
        self.progress.setValue(ev.start_step)
        self.progress.setFormat(f"starting on {ev.device}…")

    def update_step(self, ev: StepMetrics) -> None:
        if self.estimate is None:
            return
        self.estimate.update(ev)
        # QProgressBar repaints synchronously on setValue (1-2 ms); a few times a second is plenty.
        now = time.perf_counter()
        if now - self._last_shown < PROGRESS_INTERVAL and ev.step < self.estimate.total_steps:
            return
        self._last_shown = now
        self.progress.setValue(min(ev.step, self.progress.maximum()))
        suffix = " (paused)" if self.state == PAUSED else ""
        self.progress.setFormat(self.estimate.text() + suffix)

    def show_text(self, text: str) -> None:
        self.progress.setFormat(text)

    def show_ready(self) -> None:
        """Nothing on display: an empty bar that says how to start."""
        self.estimate = None
        self.progress.setRange(0, 1)
        self.progress.setValue(0)   # a reset bar (value -1) hides its text
        self.progress.setFormat("ready: press Train to start")

    def show_run(self, text: str, done_epochs: int, planned_epochs: int) -> None:
        """A run that is not training (an opened session): how far it came, in the bar and
        in words, replacing whatever the last training call left there."""
        self.estimate = None
        self.progress.setRange(0, max(1, planned_epochs, done_epochs))
        self.progress.setValue(max(0, done_epochs))
        self.progress.setFormat(text)
