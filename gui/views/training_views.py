"""The Training tab's views, subscribed to the :class:`~gui.run.model.RunModel`.

Every view shows the same epoch: the replay timeline picks a (global) epoch,
the model turns it into a run and an epoch, and the loss plot's marker, the
reconstructions, the latent explorer and the samples follow. A greedy job
swaps two places for views of its own — the stage reconstructions (each
stage's input and output, the images through the stack) and, in the bottom
row, the first-layer features beside the table of stages — through two
``QStackedWidget`` switches. The same switches give a GAN, an RBM and 2-D
point data the views of their own (:mod:`gui.views.generative_views`,
:mod:`gui.views.families`). Views
compute nothing; the shifts of a job's runs onto shared axes are the
model's ``step_offset`` / ``epoch_offset``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QGroupBox, QSplitter, QWidget

from engine.data.toy2d import is_point_data
from engine.models import family_class
from gui.run.coalescing import MetricsBatch
from gui.views.generative_views import GenerativeViews
from gui.panels.feature_grid import FeatureGridPanel
from gui.panels.latent_explorer import LatentExplorerPanel
from gui.panels.loss_curves import LOSS_AXIS_LABEL, LossCurvesPanel
from gui.panels.reconstructions import ReconstructionsPanel
from gui.panels.replay_timeline import ReplayTimelinePanel
from gui.panels.samples import SamplesPanel
from gui.panels.stage_reconstructions import StageReconstructionsPanel, StageView
from gui.panels.stage_summary import StageSummaryPanel
from gui.run.model import RunModel, short_name
from gui.run.state import RunState
from gui.widgets.frame import framed
from gui.widgets.naming import named
from gui.widgets.page_stack import PageStack

ORDINARY, STAGES = 0, 1
STAGE_AXIS_LABEL = "loss per stage input (nats)"


class TrainingViews(QObject):
    """Binds the model to the Training tab's panels (see the module docstring).

    Attributes
    ----------
    reconstructions_switch, bottom_switch : put these in the layout.
    frames : export targets of the job views (``first-layer-features``, ``stages``).

    Signals
    -------
    epoch_shown(int) : the views now show this global epoch.
    problem(str) : something could not be shown (e.g. a damaged snapshot).
    """

    epoch_shown = Signal(int)
    problem = Signal(str)

    def __init__(self, model: RunModel, loss: LossCurvesPanel,
                 reconstructions: ReconstructionsPanel, explorer: LatentExplorerPanel,
                 samples: SamplesPanel, timeline: ReplayTimelinePanel,
                 ordinary_bottom: QWidget, parent: QObject | None = None):
        super().__init__(parent)
        self.model = model
        self.loss, self.reconstructions, self.explorer = loss, reconstructions, explorer
        self.samples, self.timeline = samples, timeline
        self.stage_reconstructions = StageReconstructionsPanel()
        self.summary = StageSummaryPanel(model)   # subscribes to the model itself
        self.features = FeatureGridPanel("pretrain")
        self.reconstructions_switch = named(PageStack(), "reconstructionsSwitch",
                                            "Reconstructions")
        self.reconstructions_switch.addWidget(reconstructions)
        self.reconstructions_switch.addWidget(self.stage_reconstructions)
        self.frames = {
            "first-layer-features": framed("First-layer features", "pretrainFeaturesFrame",
                                           self.features),
            "stages": framed("Pretraining stages", "stagesFrame", self.summary),
        }
        job_bottom = named(QSplitter(Qt.Horizontal), "jobViewsSplitter", "Views")
        job_bottom.addWidget(self.frames["first-layer-features"])
        job_bottom.addWidget(self.frames["stages"])
        job_bottom.setSizes([430, 630])
        self.bottom_switch = named(PageStack(), "bottomViewsSwitch", "Views")
        self.bottom_switch.addWidget(ordinary_bottom)
        self.bottom_switch.addWidget(job_bottom)
        self.generative = GenerativeViews(explorer, samples, loss, self)
        for page in self.generative.reconstruction_pages:
            self.reconstructions_switch.addWidget(page)
        for page in self.generative.bottom_pages:
            self.bottom_switch.addWidget(page)
        self.frames.update(self.generative.frames)
        self.displayed_epoch: int | None = None   # global
        self._features_of: str | None = None
        model.reset.connect(self._on_reset)
        model.run_added.connect(self._on_run_added)
        model.run_changed.connect(self._on_run_changed)
        model.metrics.connect(self._on_metrics)
        model.validation.connect(self._on_validation)
        model.snapshot_added.connect(self._on_snapshot)
        model.position.connect(self._on_position)
        timeline.epoch_selected.connect(model.select)

    @property
    def showing_stages(self) -> bool:
        return self.bottom_switch.currentIndex() == STAGES

    def _show_stages(self, on: bool) -> None:
        page = STAGES if on else ORDINARY
        self.reconstructions_switch.setCurrentIndex(page)
        self.bottom_switch.setCurrentIndex(page)
        self._title_reconstructions("Reconstructions")

    def _show_family(self, run: RunState) -> None:
        """The places where this run's family or data has views of its own."""
        self.generative.set_run(run)
        page = self.generative.reconstruction_page(run)
        if page is not None:
            self.reconstructions_switch.setCurrentWidget(page)
            self._title_reconstructions(self.generative.reconstruction_title(run))
        bottom = self.generative.bottom_page(run)
        if bottom is not None:
            self.bottom_switch.setCurrentWidget(bottom)

    def _title_reconstructions(self, title: str) -> None:
        frame = self.reconstructions_switch.parentWidget()
        if isinstance(frame, QGroupBox):
            frame.setTitle(title)

    # -- model events ---------------------------------------------------------------------
    def _on_reset(self) -> None:
        self.displayed_epoch = None
        self._features_of = None
        job = any(p.role == "stage" for p in self.model.plan)
        self._show_stages(job)
        self.loss.reset((), STAGE_AXIS_LABEL if job else LOSS_AXIS_LABEL)
        self.reconstructions.clear()
        self.stage_reconstructions.clear()
        self.explorer.clear()
        self.generative.clear()
        self.samples.clear()
        self.features.set_features(None, "First-layer features appear when stage 1 ends."
                                   if job else "")
        self.timeline.set_epochs([])

    def _on_run_added(self, run: RunState) -> None:
        if run.is_classifier:
            return
        job = run.plan.role in ("stage", "stack") or self.showing_stages
        if job and not self.showing_stages:
            self._show_stages(True)
            self.loss.plot.setLabel("left", STAGE_AXIS_LABEL)
        if not job:  # first: filling the timeline below shows its last epoch at once
            if is_point_data(run.data.image_shape):   # nats per 2-D point, not per image
                self.loss.plot.setLabel("left", LOSS_AXIS_LABEL.replace("image", "point"))
            self.reconstructions.set_run(run.data, run.config.objective.corruption != "none")
            self.explorer.set_run(run.config, run.data)
            self._show_family(run)
        self.loss.set_term_weights(family_class(run.config).term_weights(run.config))
        self.loss.add_terms(run.term_names)
        if len(self.model.training_runs()) > 1 or job:
            self.loss.add_stage_marker(run.step_offset, short_name(run.plan))
        if run.stored is not None:
            h = run.stored.history
            if len(h.get("step", ())):
                self.loss.append_rows(h["step"] + run.step_offset, h["epoch"] + run.epoch_offset,
                                      {k: h[k] for k in run.term_names if k in h})
            eh = run.stored.epoch_history
            for i, step in enumerate(eh.get("step", [])):
                values = {k: float(v[i]) for k, v in eh.get("val", {}).items()
                          if np.isfinite(v[i])}
                self.loss.add_validation(int(step) + run.step_offset, values)
            self.loss.redraw()
            self.timeline.set_epochs(self.model.timeline())
        else:
            self.loss.plan_steps(self.model.planned_steps())
        if job:
            if run.stored is None or run.run_id == self.model.training_runs()[0].run_id:
                self.stage_reconstructions.begin(self._pixel_probes())
        self._update_features()

    def _on_run_changed(self, run: RunState) -> None:
        if run.is_classifier:
            return
        if run.status != "running":
            self._update_features()

    def _on_metrics(self, run: RunState, batch: MetricsBatch) -> None:
        if run.is_classifier:
            return
        if run.step_offset or run.epoch_offset:
            batch = MetricsBatch(steps=batch.steps + run.step_offset,
                                 epochs=batch.epochs + run.epoch_offset,
                                 wall_time=batch.wall_time, terms=batch.terms, last=batch.last)
        self.loss.append(batch)

    def _on_validation(self, run: RunState, step: int, values) -> None:
        if not run.is_classifier:
            self.loss.add_validation(step + run.step_offset, values)

    def _on_snapshot(self, run: RunState, epoch: int) -> None:
        if run.is_classifier:
            return
        g = run.epoch_offset + epoch
        known = g in self.timeline.epochs
        self.timeline.add_epoch(g)           # a new epoch: the timeline follows the run
        if known and self.displayed_epoch == g:  # retrained after a resume
            self.model.select(g)

    def _on_position(self, run: RunState, epoch: int) -> None:
        try:
            snap = run.snapshot(epoch)
            g = run.epoch_offset + epoch
            self.loss.mark_epoch(snap.step + run.step_offset, text=self.model.describe(g))
            if self.showing_stages:
                self._show_stage(run, epoch, snap)
            else:
                decoder = run.decoder(epoch) if self.model.may_build_decoders else None
                if "probe_recon" in snap.images:
                    self.reconstructions.show_snapshot(snap)
                if "map_latents" in snap.arrays:
                    self.explorer.show_snapshot(snap, decoder)
                self.samples.show_decoder(decoder, epoch)
                if self.model.may_build_decoders:
                    self.generative.show(run, epoch, snap)
        except KeyError as e:  # a snapshot without a quantity a view needs
            self.problem.emit(f"Epoch {epoch} cannot be shown: its snapshot has no {e}")
            return
        except Exception as e:  # noqa: BLE001 - a damaged epoch: say so, keep the rest
            self.problem.emit(f"Epoch {epoch} cannot be shown: {e}")
            return
        self.displayed_epoch = g
        self.epoch_shown.emit(g)

    def _show_stage(self, run: RunState, epoch: int, snap) -> None:
        stage = run.plan.role == "stage"
        denoising = run.config.objective.corruption != "none"
        self.stage_reconstructions.show_view(StageView(
            stage=int(run.plan.meta.get("stage", 0)), title=run.plan.title,
            code_input=stage and int(run.plan.meta.get("stage", 1)) > 1,
            clean=run.data.probe_images,
            noisy=snap.images.get("probe_inputs") if denoising else None,
            recon=snap.images["probe_recon"], stack=snap.images.get("stack_recon"),
            epoch=epoch))

    # -- helpers -----------------------------------------------------------------------------
    def _pixel_probes(self) -> np.ndarray | None:
        """The probe images in pixels (stage 1's, or any run's on the images)."""
        for r in self.model.training_runs():
            if r.plan.role != "stage" or int(r.plan.meta.get("stage", 1)) == 1:
                return r.data.probe_images
        return None

    def _update_features(self) -> None:
        """The job's first-layer features: stage 1's while it trains, the stack's at the end."""
        if not self.showing_stages:
            return
        runs = {r.run_id: r for r in self.model.training_runs()}
        for run_id, caption in (("stack", "The stacked encoder's first layer"),
                                ("stage-1", "Stage 1's units: each unit's input weights")):
            run = runs.get(run_id)
            if run is None or run.status == "running":
                continue
            key = f"{run_id}:{run.last_step}"
            if key == self._features_of:
                return
            pixels = self._pixel_probes()
            features = None if pixels is None else \
                run.first_layer_features(tuple(pixels.shape[1:]))[0]
            if features is not None:
                self._features_of = key
                self.features.set_features(features, f"{caption}: {len(features)} units")
                return
