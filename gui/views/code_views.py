"""The Code views tab: what each regulariser does to the code, bound to the RunModel.

Each view makes one claim of the course notes visible (issue 10): the KL per
dimension with its active units, the code's activations, the encoder's
Jacobian, the identity probe, a live noise slider, a drawing pad, the latent
map over time and, for 2-D points, data space with the reconstruction field.
:data:`VIEW_PANELS` is the registry of view classes (the lessons window makes
them with :func:`make_view` and feeds them ``show_epoch(run, epoch)``);
:class:`CodeViews` lays the main window's tab out, and each view in it follows the
RunModel itself (the live run, the replay slider; :mod:`gui.run.following`).

Nothing here slows training: the views read what the epoch's snapshot already
holds, and what they compute (the noise slider, the drawing) runs on the epoch's
CPU copy of the model (:meth:`~gui.run.state.RunState.cpu_model`). Positions are
coalesced (one update per pass of the event loop) and only the views on screen
draw; the others catch up when they are shown.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from gui.panels.activation_histogram import ActivationHistogramPanel
from gui.panels.data_space import DataSpacePanel
from gui.panels.disentanglement_scores import DisentanglementScoresPanel
from gui.panels.drawing_pad import DrawingPadPanel
from gui.panels.identity_probe import IdentityProbePanel
from gui.panels.jacobian_spectrum import JacobianSpectrumPanel
from gui.panels.kl_per_dimension import KlPerDimensionPanel
from gui.panels.latent_explorer import LatentExplorerPanel
from gui.panels.latent_interpolation import LatentInterpolationPanel
from gui.panels.latent_trails import LatentTrailsPanel
from gui.panels.latent_traversals import LatentTraversalsPanel
from gui.panels.mutual_information import MutualInformationPanel
from gui.panels.noise_level import NoiseLevelPanel
from gui.panels.sample_quality import SampleQualityPanel
from gui.panels.wrapped_views import LatentExplorerView, ReconstructionsView, SamplesView
from gui.run.model import RunModel
from gui.widgets.frame import framed
from gui.widgets.naming import named

#: view key -> panel class (each has ``view_name`` = its key and the issue's objectName)
VIEW_PANELS: dict[str, type] = {cls.view_name: cls for cls in (
    KlPerDimensionPanel, ActivationHistogramPanel, JacobianSpectrumPanel, IdentityProbePanel,
    NoiseLevelPanel, DrawingPadPanel, LatentTrailsPanel, DataSpacePanel,
    ReconstructionsView, SamplesView, LatentExplorerView,
    # the research measures (issue 20)
    MutualInformationPanel, LatentTraversalsPanel, LatentInterpolationPanel,
    DisentanglementScoresPanel,
    SampleQualityPanel)}   # on the Generative models tab; lessons may show it too


def make_view(name: str) -> QWidget:
    """A new panel of view ``name`` (a key of :data:`VIEW_PANELS`)."""
    try:
        return VIEW_PANELS[name]()
    except KeyError:
        raise KeyError(f"no view {name!r}; the views are {', '.join(VIEW_PANELS)}") from None


#: The tab's pages: title, how the views share it, the views (export keys follow them).
PAGES = (
    ("Code usage", Qt.Horizontal, ("kl_per_dimension", "mutual_information",
                                   "activation_histogram")),
    ("Contraction && identity", Qt.Vertical, ("jacobian_spectrum", "identity_probe")),
    ("Denoising", Qt.Vertical, ("noise_level",)),
    ("Draw a digit", Qt.Horizontal, ("drawing_pad", "latent_explorer")),
    ("Map over time", Qt.Vertical, ("latent_trails",)),
    ("Data space", Qt.Vertical, ("data_space",)),
    ("Disentanglement", Qt.Horizontal, ("latent_traversals", "disentanglement_scores")),
    ("Interpolation", Qt.Vertical, ("latent_interpolation",)),
)
#: A view drawn under another in one column of its page (view -> the view below it).
STACKED = {"kl_per_dimension": "mutual_information"}
FRAME_TITLES = {
    "kl_per_dimension": "KL per latent dimension (VAE): active units",
    "activation_histogram": "Sparsity: the code's activations",
    "jacobian_spectrum": "Contraction: the encoder's Jacobian",
    "identity_probe": "The identity risk: off-manifold inputs",
    "noise_level": "Denoising: corrupt the probe images live",
    "drawing_pad": "Draw a digit",
    "latent_explorer": "Its code on the latent map (◆)",
    "latent_trails": "The latent map over time",
    "data_space": "Data space: the reconstruction field r(x) − x",
    "mutual_information": "Posterior collapse: I(x; z) beside the KL",
    "latent_traversals": "Latent traversals: one dimension at a time",
    "disentanglement_scores": "Disentanglement on known factors",
    "latent_interpolation": "Interpolation between two codes",
}


def export_key(name: str) -> str:
    """``kl_per_dimension`` -> ``kl-per-dimension`` (the window's export names)."""
    return "drawing-latent-map" if name == "latent_explorer" else name.replace("_", "-")


class CodeViews(QObject):
    """The Code views tab (see the module docstring): its pages, and each view following the
    model.

    Attributes
    ----------
    page : the tab (objectName ``codeViewsTab``); ``pages`` its sub-tabs.
    panels : view key -> panel.
    frames : export key -> framed panel, for the window's Export figure menu.
    """

    def __init__(self, model: RunModel, explorer: LatentExplorerPanel | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.main_explorer = explorer
        self.panels = {key: make_view(key) for _, _, keys in PAGES for key in keys}
        self.frames = {export_key(k): framed(FRAME_TITLES[k], f"{p.objectName()}Frame", p)
                       for k, p in self.panels.items()}
        self.page = named(QWidget(), "codeViewsTab", "Code views")
        self.pages = named(QTabWidget(), "codeViewsPages", "Code views")
        self.pages.setDocumentMode(True)
        for title, orientation, keys in PAGES:
            split = named(QSplitter(orientation), f"codeViews{title.split()[0]}Splitter",
                          title.replace("&&", "and"))
            split.setChildrenCollapsible(False)
            below = set(STACKED.values())
            for k in keys:
                if k in STACKED:
                    column = named(QSplitter(Qt.Vertical), f"{self.panels[k].objectName()}"
                                   "Column", f"{self.panels[k].title} column")
                    column.setChildrenCollapsible(False)
                    column.addWidget(self.frames[export_key(k)])
                    column.addWidget(self.frames[export_key(STACKED[k])])
                    split.addWidget(column)
                elif k not in below:
                    split.addWidget(self.frames[export_key(k)])
            if split.count() == 2 and orientation == Qt.Horizontal:
                split.setSizes([440, 600])
            self.pages.addTab(split, title)
        layout = QVBoxLayout(self.page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)
        for panel in self.panels.values():
            panel.follow(model)
        drawing: DrawingPadPanel = self.panels["drawing_pad"]
        drawing.code_changed.connect(self._on_drawing_code)
        self.panels["latent_interpolation"].path_changed.connect(self._on_interpolation_path)

    def flush(self, everything: bool = False) -> None:
        """Draw the model's position now in the views on screen (``everything``: in all)."""
        for panel in self.panels.values():
            panel.catch_up(hidden_too=everything)

    def _on_interpolation_path(self, codes) -> None:
        if self.main_explorer is not None:
            self.main_explorer.show_extra_path(codes)

    def _on_drawing_code(self, code) -> None:
        explorers = [self.panels["latent_explorer"].explorer, self.main_explorer]
        for explorer in explorers:
            if explorer is not None:
                explorer.show_extra_marker(code)
