"""The Training tab's pretraining views, and switching between them and the ordinary ones.

A pretraining run shows different things than an ordinary run in two
places: the reconstructions frame shows :class:`StageReconstructionsPanel`
(each stage's own input, the images through the stack), and the bottom row
— the latent explorer and prior samples of an ordinary run — shows the
first-layer features and the table of stages. The loss plot and the replay
timeline are shared. :class:`PretrainingViews` owns those panels, the two
switches (``QStackedWidget``) and the :class:`~gui.pretrain_display.PretrainDisplay`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QSplitter, QStackedWidget, QWidget

from gui.panels.feature_grid import FeatureGridPanel
from gui.panels.loss_curves import LossCurvesPanel
from gui.panels.replay_timeline import ReplayTimelinePanel
from gui.panels.stage_reconstructions import StageReconstructionsPanel
from gui.panels.stage_summary import StageSummaryPanel
from gui.pretrain_display import PretrainDisplay
from gui.widgets.frame import framed
from gui.widgets.naming import named

ORDINARY, PRETRAINING = 0, 1


class PretrainingViews(QObject):
    """Pretraining panels and the switches that put them on screen.

    Parameters
    ----------
    loss, timeline : the shared loss plot and replay timeline.
    reconstructions : the ordinary reconstructions panel (the switch's other page).
    ordinary_bottom : the ordinary bottom row (latent explorer and samples).

    Attributes
    ----------
    reconstructions_switch, bottom_switch : put these in the layout.
    frames : export targets, ``first-layer-features`` and ``stages``.
    """

    def __init__(self, loss: LossCurvesPanel, reconstructions: QWidget,
                 timeline: ReplayTimelinePanel, ordinary_bottom: QWidget,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.stage_reconstructions = StageReconstructionsPanel()
        self.summary = StageSummaryPanel()
        self.features = FeatureGridPanel("pretrain")
        self.display = PretrainDisplay(loss, self.stage_reconstructions, self.summary,
                                       self.features, timeline, self)
        self.reconstructions_switch = named(QStackedWidget(), "reconstructionsSwitch",
                                            "Reconstructions")
        self.reconstructions_switch.addWidget(reconstructions)
        self.reconstructions_switch.addWidget(self.stage_reconstructions)
        self.frames = {
            "first-layer-features": framed("First-layer features",
                                           "pretrainFeaturesFrame", self.features),
            "stages": framed("Pretraining stages", "stagesFrame", self.summary),
        }
        pretraining_bottom = QSplitter(Qt.Horizontal)
        pretraining_bottom.addWidget(self.frames["first-layer-features"])
        pretraining_bottom.addWidget(self.frames["stages"])
        pretraining_bottom.setSizes([430, 630])
        self.bottom_switch = named(QStackedWidget(), "bottomViewsSwitch", "Views")
        self.bottom_switch.addWidget(ordinary_bottom)
        self.bottom_switch.addWidget(pretraining_bottom)

    @property
    def showing_pretraining(self) -> bool:
        return self.bottom_switch.currentIndex() == PRETRAINING

    def show_pretraining(self, on: bool) -> None:
        """Put the pretraining views (True) or the ordinary ones (False) on screen."""
        page = PRETRAINING if on else ORDINARY
        self.reconstructions_switch.setCurrentIndex(page)
        self.bottom_switch.setCurrentIndex(page)

    def leave(self) -> None:
        """An ordinary run (or none) takes the panels: forget the pretraining run."""
        self.display.deactivate()
        self.show_pretraining(False)
