"""Routes a greedy pretraining run into the panels, stage after stage.

:class:`PretrainDisplay` is to a pretraining run what
:class:`~gui.run_display.RunDisplay` is to an ordinary one. It receives the
:class:`~gui.pretrain_worker.PretrainingWorker`'s signals (steps and epochs
already counted over the whole run) and keeps:

- the loss plot: every stage's terms on one step axis, a marked line where
  each stage starts;
- the stage reconstructions: per saved epoch, the stage's own input and
  reconstruction and the probe images through the stack, for the replay
  timeline, which runs over all stages' epochs;
- the stage table and the first-layer feature grid;
- the stacked autoencoder's weights when the run ends, for fine-tuning.

:meth:`PretrainDisplay.replay` shows a pretraining file (File > Open) the same
way, its per-stage steps and epochs shifted onto the run's shared axes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal

from engine.config import RunConfig
from engine.events import DatasetInfo, EpochEnded, EpochSnapshot, RunStarted
from engine.objective import Objective
from engine.pretraining import PretrainConfig
from engine.pretraining.events import (FINETUNE, PretrainFinished, PretrainStarted,
                                       StackReconstruction, StageCompleted, StageStarted)
from gui.coalescing import MetricsBatch
from gui.panels.feature_grid import FeatureGridPanel
from gui.panels.loss_curves import LossCurvesPanel
from gui.panels.replay_timeline import ReplayTimelinePanel
from gui.panels.stage_reconstructions import StageReconstructionsPanel, StageView
from gui.panels.stage_summary import StageSummaryPanel, stage_name
from gui.run_record import term_order

if TYPE_CHECKING:
    from engine.pretraining.reader import PretrainingFile, StageReplay


@dataclass
class StageInfo:
    """One stage as announced by ``StageStarted`` (and its trainer's ``RunStarted``)."""

    stage: int
    role: str
    title: str
    step_offset: int
    epoch_offset: int
    denoising: bool
    data: DatasetInfo | None = None


@dataclass
class EpochFrame:
    """What the stage reconstructions show for one saved epoch of the run."""

    stage: int
    stage_epoch: int
    step: int
    inputs: np.ndarray
    recon: np.ndarray
    stack: np.ndarray | None = None


@dataclass
class StackedResult:
    """The finished stack: what fine-tuning needs to rebuild it without a file.

    Attributes
    ----------
    arrays : the stacked autoencoder's parameters by name.
    config : its RunConfig (data and seed give the same split back).
    image_shape : (C, H, W).
    description : e.g. ``"stacked autoencoder 784-256-64"``.
    """

    arrays: dict[str, np.ndarray]
    config: RunConfig
    image_shape: tuple[int, int, int]
    description: str


def pretraining_terms(config: PretrainConfig) -> tuple[str, ...]:
    """Every loss term any stage (or the end-to-end pass) reports, in plotting order."""
    names: list[str] = []
    objectives = [config.stage_objective(k) for k in range(1, config.n_stages + 1)]
    stacked = config.stacked_config()
    for obj in objectives + [stacked.objective]:
        names += [n for n in Objective(obj).term_names(False) if n not in names]
    return term_order(stacked, names)


class PretrainDisplay(QObject):
    """Shows one pretraining run; see the module docstring.

    Signals
    -------
    started : a pretraining run took over the panels.
    features_changed(object, str) : new first-layer features (units, C, H, W) and a caption.
    finished(str) : the run ended: completed, stopped or failed.
    """

    started = Signal()
    features_changed = Signal(object, str)
    finished = Signal(str)

    def __init__(self, loss: LossCurvesPanel, reconstructions: StageReconstructionsPanel,
                 summary: StageSummaryPanel, features: FeatureGridPanel,
                 timeline: ReplayTimelinePanel, parent: QObject | None = None):
        super().__init__(parent)
        self.loss, self.reconstructions, self.summary = loss, reconstructions, summary
        self.features, self.timeline = features, timeline
        self.active = False
        self.config: PretrainConfig | None = None
        self.image_shape: tuple[int, int, int] | None = None
        self.stages: dict[int, StageInfo] = {}
        self.frames: dict[int, EpochFrame] = {}
        self.displayed_epoch: int | None = None
        self.result: StackedResult | None = None
        self.outcome: str | None = None
        self.path: Path | None = None
        self._next_path: Path | None = None
        timeline.epoch_selected.connect(self.show_epoch)

    def expect_file(self, path: Path | None) -> None:
        """The next run that starts is recorded in ``path`` (None: not saved)."""
        self._next_path = path

    # -- pretraining events ------------------------------------------------------------
    def on_stage_event(self, ev) -> None:
        if isinstance(ev, PretrainStarted):
            self._begin(ev)
        elif not self.active:
            return
        elif isinstance(ev, StageStarted):
            self._stage_started(ev)
        elif isinstance(ev, StackReconstruction):
            frame = self.frames.get(ev.epoch)
            if frame is not None:
                frame.stack = ev.probe_recon
                if self.displayed_epoch == ev.epoch:
                    self.show_epoch(ev.epoch)
        elif isinstance(ev, StageCompleted):
            self.summary.stage_completed(ev)
            if ev.features is not None and ev.role != FINETUNE:
                self._show_features(ev.features, f"Stage 1's {len(ev.features)} units: "
                                                 "each unit's input weights")
        elif isinstance(ev, PretrainFinished):
            self._finish(ev)

    def _begin(self, ev: PretrainStarted) -> None:
        self.active = True
        self.path, self._next_path = self._next_path, None
        self.config = PretrainConfig.from_dict(json.loads(ev.config_json))
        self.image_shape = tuple(ev.image_shape)
        self.stages.clear()
        self.frames.clear()
        self.displayed_epoch = None
        self.result = None
        self.outcome = None
        # Stage k >= 2 reconstructs codes: its loss is per code vector, not per image.
        self.loss.reset(pretraining_terms(self.config), "loss per stage input (nats)")
        self.reconstructions.clear()
        self.summary.begin(ev)
        self.features.set_features(None, "First-layer features appear when stage 1 ends.")
        self.timeline.set_epochs([])
        self.started.emit()

    def _stage_started(self, ev: StageStarted) -> None:
        cfg = RunConfig.from_json(ev.config_json)
        if ev.role == FINETUNE:
            title = f"end-to-end ({ev.input_dim}-…-{ev.width})"
        else:
            title = f"stage {ev.stage} ({ev.input_dim}→{ev.width}, {ev.kind})"
        self.stages[ev.stage] = StageInfo(
            stage=ev.stage, role=ev.role, title=title, step_offset=ev.step_offset,
            epoch_offset=ev.epoch_offset, denoising=cfg.objective.corruption != "none")
        self.loss.add_stage_marker(ev.step_offset, stage_name(ev.stage, ev.role))
        self.summary.stage_started(ev)

    def _finish(self, ev: PretrainFinished) -> None:
        self.outcome = ev.outcome
        cfg = self.config
        if ev.stacked and cfg is not None:
            sizes = (int(np.prod(self.image_shape)),) + tuple(cfg.widths)
            self.result = StackedResult(
                arrays=dict(ev.stacked), config=cfg.stacked_config(),
                image_shape=self.image_shape,
                description="stacked autoencoder " + "-".join(str(s) for s in sizes))
        if ev.features is not None:
            when = "after end-to-end training" if cfg and cfg.finetune_epochs else "as stacked"
            self._show_features(ev.features, f"The stacked encoder's first layer ({when}): "
                                             f"{len(ev.features)} units")
        self.finished.emit(ev.outcome)

    def _show_features(self, features: np.ndarray, caption: str) -> None:
        self.features.set_features(features, caption)
        self.features_changed.emit(features, caption)

    # -- the trainer's events (steps and epochs over the whole run) ------------------------
    def on_run_started(self, ev: RunStarted) -> None:
        info = self.stages.get(ev.stage)
        if not self.active or info is None:
            return
        info.data = ev.data
        if ev.stage == 1:
            self.reconstructions.begin(ev.data.probe_images)
            # Every stage (and the end-to-end pass) takes as many steps per epoch: the
            # step axis can span the whole run from the start, as for an ordinary run.
            cfg = self.config
            epochs = len(cfg.widths) * cfg.stage_epochs + cfg.finetune_epochs
            self.loss.plan_steps(ev.start_step + epochs * ev.steps_per_epoch)

    def on_metrics(self, batch: MetricsBatch) -> None:
        if self.active:
            self.loss.append(batch)

    def on_epoch_ended(self, ev: EpochEnded) -> None:
        info = self.stages.get(ev.stage)
        if not self.active or info is None:
            return
        self.loss.add_validation(ev.step, ev.val)
        self.summary.epoch_ended(ev.stage, ev.epoch - info.epoch_offset, ev.val)

    def on_snapshot(self, snap: EpochSnapshot) -> None:
        info = self.stages.get(snap.stage)
        if not self.active or info is None:
            return
        self.frames[snap.epoch] = EpochFrame(
            stage=snap.stage, stage_epoch=snap.epoch - info.epoch_offset, step=snap.step,
            inputs=snap.probe_inputs, recon=snap.probe_recon)
        self.timeline.add_epoch(snap.epoch)   # shows it when the timeline follows the run

    # -- replay --------------------------------------------------------------------------
    def show_epoch(self, epoch: int) -> None:
        """Show the saved epoch ``epoch`` (counted over the whole run)."""
        frame = self.frames.get(epoch) if self.active else None
        if frame is None:
            return
        info = self.stages[frame.stage]
        data = info.data
        if data is None:
            return
        self.displayed_epoch = epoch
        self.reconstructions.show_view(StageView(
            stage=frame.stage, title=info.title,
            code_input=info.role != FINETUNE and frame.stage > 1,
            clean=data.probe_images, noisy=frame.inputs if info.denoising else None,
            recon=frame.recon, stack=frame.stack, epoch=frame.stage_epoch))
        self.loss.mark_epoch(frame.step, text=f"{stage_name(frame.stage, info.role)} · "
                                              f"epoch {frame.stage_epoch}")

    # -- a pretraining file, replayed -----------------------------------------------------
    def replay(self, run: PretrainingFile, stages: list[StageReplay]) -> None:
        """Show a stored pretraining run as if it had just been trained: every stage's
        steps on one axis with its start marked, the stage table, the features, and
        the timeline over all stages' saved epochs (showing the last)."""
        cfg = run.config
        shape = run.image_shape or (tuple(stages[0].data.image_shape) if stages else (1, 1, 1))
        self._next_path = run.path
        self._begin(PretrainStarted(
            widths=tuple(cfg.widths),
            kinds=tuple(cfg.stage_kind(k) for k in range(1, cfg.n_stages + 1)),
            code_activation=cfg.code_activation, image_shape=tuple(shape),
            stage_epochs=cfg.stage_epochs, finetune_epochs=cfg.finetune_epochs,
            config_json=cfg.to_run_config().to_json()))
        step_offset = epoch_offset = 0
        for st in stages:
            self._stage_started(StageStarted(
                stage=st.stage, n_stages=cfg.n_stages, role=st.role, input_dim=st.input_dim,
                width=st.width, kind=st.kind, likelihood=st.likelihood,
                epochs=st.config.optim.epochs, config_json=st.config.to_json(),
                step_offset=step_offset, epoch_offset=epoch_offset))
            self.stages[st.stage].data = st.data
            if st.stage == 1:
                self.reconstructions.begin(st.data.probe_images)
            h = st.history
            terms = {k: v for k, v in h.items() if k in self.loss.curves}
            if len(h.get("step", ())):
                self.loss.append_rows(h["step"] + step_offset, h["epoch"] + epoch_offset, terms)
            val = st.epochs.get("val", {})
            for i, (epoch, step) in enumerate(zip(st.epochs["epoch"], st.epochs["step"])):
                values = {k: float(v[i]) for k, v in val.items() if np.isfinite(v[i])}
                self.loss.add_validation(int(step) + step_offset, values)
                self.summary.epoch_ended(st.stage, int(epoch), values)
            for epoch, fr in st.frames.items():
                self.frames[epoch + epoch_offset] = EpochFrame(
                    stage=st.stage, stage_epoch=epoch, step=fr.step + step_offset,
                    inputs=fr.inputs, recon=fr.recon, stack=st.stack_recon.get(epoch))
            self.summary.stage_completed(StageCompleted(stage=st.stage, role=st.role,
                                                        outcome=st.outcome))
            if st.features is not None and st.role != FINETUNE:
                self._show_features(st.features, f"Stage 1's {len(st.features)} units: "
                                                  "each unit's input weights")
            step_offset += st.last_step
            epoch_offset += st.last_epoch
        self.loss.redraw()
        self.timeline.set_epochs(sorted(self.frames))
        self._finish(PretrainFinished(
            outcome=run.status, stages_completed=sum(s.outcome == "completed" for s in stages),
            stacked=dict(run.stacked_model), features=run.stacked_features))

    def deactivate(self) -> None:
        """Another run (or nothing) takes the panels: forget this one."""
        self.active = False
        self.stages.clear()
        self.frames.clear()
        self.result = None
        self.path = None
        self.displayed_epoch = None
        self.reconstructions.clear()
        self.summary.clear()
        self.features.set_features(None)
