"""Greedy pretraining on the training thread: the same worker, the stages laid end to end.

:class:`PretrainingWorker` is a :class:`~gui.worker.TrainingWorker` whose
"trainer" is a :class:`~engine.pretraining.GreedyPretrainer`. Listeners (the
:class:`~engine.pretraining.PretrainRecorder`) get every event exactly as
the engine emits it. The GUI gets the trainer's events moved onto one axis
for the whole run: each stage's trainer counts its steps and epochs from 1,
so the worker adds the stage's ``step_offset`` / ``epoch_offset`` (from
:class:`~engine.pretraining.StageStarted`) before they become signals. The
loss plot, the replay timeline and the progress bar then need nothing
special: stage 2's first step follows stage 1's last, and the progress bar
counts the steps of all stages. The pretraining events themselves arrive
through :attr:`PretrainingWorker.stage_event`.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from PySide6.QtCore import Signal

from engine.control import TrainingControl
from engine.events import (EpochEnded, EpochSnapshot, Event, RunFailed, RunFinished,
                           RunStarted, StepMetrics)
from engine.pretraining import GreedyPretrainer, PretrainConfig
from engine.pretraining.events import (PretrainFinished, PretrainStarted,
                                       StackReconstruction, StageCompleted, StageStarted)
from gui.coalescing import DEFAULT_INTERVAL
from gui.worker import TRAINING_NICE, Listener, TrainingWorker

STAGE_EVENTS = (PretrainStarted, StageStarted, StackReconstruction, StageCompleted,
                PretrainFinished)
_ON_AXIS = (StepMetrics, EpochEnded, EpochSnapshot, RunFinished, RunFailed)


class _GreedyRun:
    """Gives a GreedyPretrainer the trainer's ``run(emit, control, until)`` call."""

    def __init__(self, config: PretrainConfig):
        self.pretrainer = GreedyPretrainer(config)   # loads the data: on the training thread

    def run(self, emit, control: TrainingControl, until=None) -> str:
        return self.pretrainer.run(emit, control)


def total_epochs(config: PretrainConfig) -> int:
    """Epochs of every stage together, the end-to-end pass included."""
    return config.n_stages * config.stage_epochs + config.finetune_epochs


class PretrainingWorker(TrainingWorker):
    """Runs greedy layer-wise pretraining; see the module docstring.

    Parameters
    ----------
    config : the validated pretraining run.
    listeners, interval, nice : as for :class:`~gui.worker.TrainingWorker`.
    """

    stage_event = Signal(object)   # PretrainStarted, StageStarted, StackReconstruction, ...

    def __init__(self, config: PretrainConfig, listeners: Sequence[Listener] = (),
                 interval: float = DEFAULT_INTERVAL, nice: int = TRAINING_NICE):
        super().__init__(lambda: (_GreedyRun(config), None), listeners, interval, nice)
        self.total_epochs = total_epochs(config)
        self._step_offset = 0
        self._epoch_offset = 0

    def _on_event(self, event: Event) -> None:
        self._notify_listeners(event)   # the recorder wants each stage's own numbering
        if isinstance(event, STAGE_EVENTS):
            self._flush()  # steps of the stage before come first
            if isinstance(event, StageStarted):
                self._step_offset, self._epoch_offset = event.step_offset, event.epoch_offset
            elif isinstance(event, StackReconstruction):
                event = dataclasses.replace(event, epoch=event.epoch + self._epoch_offset)
            self.stage_event.emit(event)
            return
        self._forward(self.on_run_axis(event))

    def on_run_axis(self, event: Event) -> Event:
        """``event`` with its step and epoch counted over the whole run, not its stage."""
        s, e = self._step_offset, self._epoch_offset
        if isinstance(event, RunStarted):
            return dataclasses.replace(event, start_step=event.start_step + s,
                                       start_epoch=event.start_epoch + e,
                                       total_epochs=self.total_epochs)
        if isinstance(event, _ON_AXIS):
            return dataclasses.replace(event, step=event.step + s, epoch=event.epoch + e)
        return event
