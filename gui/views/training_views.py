"""The Training tab's views and the places they take, each following the
:class:`~gui.run.model.RunModel` itself.

Every view shows the same epoch: the replay timeline picks a (global) epoch, the
model turns it into a run and an epoch (its ``position`` event), and the loss
plot's marker, the reconstructions, the latent explorer and the samples follow —
each panel subscribes to the model (:mod:`gui.run.following`); nothing pushes to
them. A greedy job swaps two places for views of its own — the stage
reconstructions (each stage's input and output, the images through the stack)
and, in the bottom row, the first-layer features beside the table of stages —
through two ``QStackedWidget`` switches. The same switches give a GAN, an RBM and
2-D point data the views of their own (:mod:`gui.views.generative_views`,
:mod:`gui.views.families`). This class owns those switches and follows the model
to choose their pages; views compute nothing, and the shifts of a job's runs onto
shared axes are the model's ``step_offset`` / ``epoch_offset``.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QGroupBox, QSplitter, QWidget

from gui.panels.latent_explorer import LatentExplorerPanel
from gui.panels.loss_curves import LossCurvesPanel
from gui.panels.reconstructions import ReconstructionsPanel
from gui.panels.replay_timeline import ReplayTimelinePanel
from gui.panels.samples import SamplesPanel
from gui.panels.stage_reconstructions import StageReconstructionsPanel
from gui.panels.stage_summary import StackFeaturesPanel, StageSummaryPanel
from gui.run.following import FollowsModel
from gui.run.model import RunModel
from gui.run.state import RunState
from gui.views.generative_views import GenerativeViews
from gui.widgets.frame import framed
from gui.widgets.naming import named
from gui.widgets.page_stack import PageStack

ORDINARY, STAGES = 0, 1


class TrainingViews(FollowsModel, QObject):
    """The Training tab's switches and the job's and families' views (see the module
    docstring).

    Attributes
    ----------
    reconstructions_switch, bottom_switch : put these in the layout.
    frames : export targets of the job views (``first-layer-features``, ``stages``).
    """

    def __init__(self, model: RunModel, loss: LossCurvesPanel,
                 reconstructions: ReconstructionsPanel, explorer: LatentExplorerPanel,
                 samples: SamplesPanel, timeline: ReplayTimelinePanel,
                 ordinary_bottom: QWidget, parent: QObject | None = None):
        super().__init__(parent)
        self.stage_reconstructions = StageReconstructionsPanel()
        self.summary = StageSummaryPanel()
        self.features = StackFeaturesPanel()
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
        self.follow(model)          # the pages first: a run's views are on screen to draw it
        for view in (loss, reconstructions, explorer, samples, self.stage_reconstructions,
                     self.summary, self.features):
            view.follow(model)
        self.generative = GenerativeViews(model, explorer, self)
        for page in self.generative.reconstruction_pages:
            self.reconstructions_switch.addWidget(page)
        for page in self.generative.bottom_pages:
            self.bottom_switch.addWidget(page)
        self.frames.update(self.generative.frames)
        # Last: on a run added, the timeline selects an epoch the views above already
        # know the run of.
        timeline.follow(model)

    @property
    def showing_stages(self) -> bool:
        return self.bottom_switch.currentIndex() == STAGES

    @property
    def displayed_epoch(self) -> int | None:
        """The global epoch the views show (None before one)."""
        current = self.run_model.current
        run = self.run_model.runs.get(current[0]) if current else None
        return None if run is None else run.epoch_offset + current[1]

    # -- the pages, following the model ---------------------------------------------------
    def on_reset(self) -> None:
        self._show_stages(self.run_model.shows_stages)

    def on_run_added(self, run: RunState) -> None:
        if run.is_classifier:
            return
        if self.run_model.shows_stages:
            if not self.showing_stages:
                self._show_stages(True)
            return
        page = self.generative.reconstruction_page(run)
        if page is not None:
            self.reconstructions_switch.setCurrentWidget(page)
            self._title_reconstructions(self.generative.reconstruction_title(run))
        bottom = self.generative.bottom_page(run)
        if bottom is not None:
            self.bottom_switch.setCurrentWidget(bottom)

    def _show_stages(self, on: bool) -> None:
        page = STAGES if on else ORDINARY
        self.reconstructions_switch.setCurrentIndex(page)
        self.bottom_switch.setCurrentIndex(page)
        self._title_reconstructions("Reconstructions")

    def _title_reconstructions(self, title: str) -> None:
        frame = self.reconstructions_switch.parentWidget()
        if isinstance(frame, QGroupBox):
            frame.setTitle(title)
