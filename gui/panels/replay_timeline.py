"""Replay timeline: a slider and a play button over the saved epochs.

While training, new epochs are appended; if the slider sits on the newest
epoch it follows the run, otherwise it stays where the user put it. Following
is paced: at most one epoch is shown per ``FOLLOW_INTERVAL_S``, the newest
when it is due, because drawing every panel for each of a fast preset's
epochs (several a second) took a fifth of the training thread's time
through the GIL; the timeline still holds every epoch.

In the main window the timeline follows the run model (:mod:`gui.run.following`): its
epochs are the model's saved epochs, and a chosen epoch is the model's position.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from gui.run.following import FollowsModel
from gui.widgets.naming import named

PLAY_INTERVAL_MS = 500
FOLLOW_INTERVAL_S = 1.0


class ReplayTimelinePanel(FollowsModel, QWidget):
    """Chooses the displayed epoch; emits :attr:`epoch_selected` (a followed model shows it)."""

    epoch_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "replayTimelinePanel", "Replay timeline")
        self.play_button = named(QPushButton("▶ Play"), "playButton", "Play epochs",
                                 "Step through the saved epochs")
        self.play_button.setCheckable(True)
        self.slider = named(QSlider(Qt.Horizontal), "timelineSlider", "Epoch timeline",
                            "Choose the epoch shown in the reconstructions, map and samples")
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TicksBelow)
        self.label = named(QLabel("no epochs yet"), "timelineLabel", "Displayed epoch")
        self.label.setMinimumWidth(150)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Replay"))
        layout.addWidget(self.play_button)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self.epochs: list[int] = []
        #: words for a (global) epoch in the label, e.g. "stage 2 · epoch 3"
        self.describe = lambda epoch: f"epoch {epoch}"
        self._timer = QTimer(self)
        self._timer.setInterval(PLAY_INTERVAL_MS)
        self._timer.timeout.connect(self._advance)
        self._follow_timer = QTimer(self, singleShot=True)
        self._follow_timer.timeout.connect(self._follow_newest)
        self._last_follow = 0.0
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.valueChanged.connect(self._follow_timer.stop)  # the user took over
        self.play_button.toggled.connect(self._on_play_toggled)
        self.set_epochs([])

    # -- following the run model ------------------------------------------------------------
    def follow(self, model) -> None:
        """Follow ``model``: follow it last, so that every view knows a run the timeline
        then selects an epoch of."""
        super().follow(model)
        self.describe = model.describe
        self.epoch_selected.connect(model.select)

    def on_reset(self) -> None:
        self.set_epochs([])

    def on_run_added(self, run) -> None:
        if not run.is_classifier and run.stored is not None:
            self.set_epochs(self.run_model.timeline())   # shows its last epoch at once

    def on_snapshot_added(self, run, epoch: int) -> None:
        if run.is_classifier:
            return
        g = run.epoch_offset + epoch
        known = g in self.epochs
        self.add_epoch(g)                      # a new epoch: the timeline follows the run
        if known and self.run_model.current == (run.run_id, epoch):
            self.run_model.select(g)           # retrained after a resume: show it anew

    @property
    def current_epoch(self) -> int | None:
        return self.epochs[self.slider.value()] if self.epochs else None

    def set_epochs(self, epochs: list[int], select: int | None = None) -> None:
        """Replace the epochs; show ``select`` (default: the last)."""
        self.epochs = sorted(epochs)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.epochs) - 1))
        self.slider.blockSignals(False)
        enabled = len(self.epochs) > 0
        self.slider.setEnabled(enabled)
        self.play_button.setEnabled(len(self.epochs) > 1)
        if not enabled:
            self.play_button.setChecked(False)
            self.label.setText("no epochs yet")
            return
        target = select if select in self.epochs else self.epochs[-1]
        self.select_epoch(target, force=True)

    def add_epoch(self, epoch: int) -> None:
        """A new epoch was saved; follow it when the newest was displayed (or nothing was)."""
        following = (not self.epochs or self.slider.value() == len(self.epochs) - 1
                     or self._follow_timer.isActive())
        if epoch in self.epochs:
            self._update_label()    # slow motion: the epoch in progress took another step
            return
        self.epochs.append(epoch)
        self.epochs.sort()
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(self.epochs) - 1)
        self.slider.blockSignals(False)
        self.slider.setEnabled(True)
        self.play_button.setEnabled(len(self.epochs) > 1)
        if following and not self.play_button.isChecked():
            due = self._last_follow + FOLLOW_INTERVAL_S - time.perf_counter()
            if due <= 0:
                self._follow_newest()
            elif not self._follow_timer.isActive():
                self._follow_timer.start(int(due * 1000) + 1)
        self._update_label()

    def flush_follow(self) -> None:
        """Show a pending newest epoch now (the run has ended)."""
        if self._follow_timer.isActive():
            self._follow_timer.stop()
            self._follow_newest()

    def _follow_newest(self) -> None:
        self._last_follow = time.perf_counter()
        # Forced: the run's first epoch sits at slider index 0, where the slider
        # already is, and would otherwise never be shown (a one-epoch run stayed blank).
        self.select_epoch(self.epochs[-1], force=True)

    def select_epoch(self, epoch: int, force: bool = False) -> None:
        """Move the slider to ``epoch`` (emits :attr:`epoch_selected`)."""
        index = self.epochs.index(epoch)
        if index == self.slider.value() and not force:
            return
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        self._on_slider(index)

    def _on_slider(self, index: int) -> None:
        if not self.epochs:
            return
        self._update_label()
        self.epoch_selected.emit(self.epochs[index])

    def _update_label(self) -> None:
        if self.epochs:
            self.label.setText(f"{self.describe(self.epochs[self.slider.value()])} "
                               f"({self.slider.value() + 1} of {len(self.epochs)} saved)")

    def _on_play_toggled(self, on: bool) -> None:
        self.play_button.setText("■ Stop playing" if on else "▶ Play")
        if on:
            if self.slider.value() == len(self.epochs) - 1:
                self.slider.setValue(0)  # play from the start when at the end
            self._timer.start()
        else:
            self._timer.stop()

    def _advance(self) -> None:
        if self.slider.value() >= len(self.epochs) - 1:
            self.play_button.setChecked(False)
            return
        self.slider.setValue(self.slider.value() + 1)
