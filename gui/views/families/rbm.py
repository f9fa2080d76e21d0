"""An RBM's own views: its stochastic encoder and decoder, live Gibbs chains and its hidden
units' weights take the bottom row, in place of the latent explorer and prior samples it
has no use for; a line above them says how its log-likelihood is computed.

They run on the displayed epoch's CPU copy (``run.cpu_model(epoch)``), shared with the
other views. On 2-D points the chains move as red dots in data space and the weights,
no pictures there, are hidden.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from engine.data.toy2d import is_point_data
from engine.models import RBM
from engine.models.boltzmann import log_partition
from engine.pretraining.stack import first_layer_features
from gui.panels.feature_grid import FeatureGridPanel
from gui.panels.rbm_views import GibbsChainsPanel, StochasticCodesPanel
from gui.run.state import RunState
from gui.views.families.base import FamilyViews, register_views
from gui.widgets.caption import caption_label
from gui.widgets.frame import framed


@register_views(RBM)
class RbmViews(FamilyViews):
    """The RBM's bottom row (see the module docstring).

    Attributes
    ----------
    frames : ``stochastic-codes``, ``gibbs-chains``, ``rbm-features``.
    """

    def __init__(self, data_space, parent=None):
        super().__init__(data_space, parent)
        self.codes = StochasticCodesPanel()
        self.chains = GibbsChainsPanel()
        self.features = FeatureGridPanel("rbm")
        self.frames = {
            "stochastic-codes": framed("Stochastic encoder p(h|v) and decoder p(v|h)",
                                       "stochasticCodesFrame", self.codes),
            "gibbs-chains": framed("Gibbs chains", "gibbsChainsFrame", self.chains),
            "rbm-features": framed("Hidden units' weights", "rbmFeaturesFrame", self.features),
        }
        views = QSplitter(Qt.Horizontal)
        for key in ("stochastic-codes", "gibbs-chains", "rbm-features"):
            views.addWidget(self.frames[key])
        views.setSizes([420, 340, 300])
        self.likelihood_label = caption_label(" ", "rbmLikelihoodLabel",
                                              "How the RBM's log-likelihood is computed",
                                              wrap=True)
        page = QWidget()
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.addWidget(self.likelihood_label)
        page_layout.addWidget(views, 1)
        self.bottom_page = page
        self.chains.points_changed.connect(data_space.show_chains)

    def set_run(self, run, traits, points) -> None:
        self.codes.set_run(run.data.probe_images)
        self.chains.set_run(run.data.probe_images)
        self.frames["rbm-features"].setVisible(not points)
        self.features.set_features(None, "The hidden units' weights appear after the "
                                         "first epoch.")
        self.likelihood_label.setText(f"Log-likelihood: {traits.likelihood}.")

    def show(self, run, epoch, snapshot) -> None:
        model = run.cpu_model(epoch)
        if model is not None:
            self.codes.show_model(model, epoch)
            self.chains.show_model(model)
        self.likelihood_label.setText(likelihood_words(run, epoch, snapshot))
        if not is_point_data(run.data.image_shape):
            features = first_layer_features(snapshot.weights, tuple(run.data.image_shape))
            if features is not None:
                note = run.weights_note(epoch)
                self.features.set_features(features, f"epoch {epoch}"
                                           f"{f' ({note})' if note else ''}: each hidden "
                                           f"unit's weights W_j as a picture "
                                           f"({len(features)} units)")

    def clear(self) -> None:
        self.chains.set_run(np.zeros((0, 1, 1, 1), np.float32))


def likelihood_words(run: RunState, epoch: int, snapshot) -> str:
    """An RBM's log-likelihood at an epoch, and how it was computed (exact, or AIS)."""
    val = {name: series.get(epoch) for name, series in run.val.items()}
    z = log_partition(val, snapshot.arrays)
    if z is None:
        return f"Log-likelihood: {RBM.traits(run.config).likelihood}."
    each = "point" if is_point_data(run.data.image_shape) else "image"
    if z.exact:
        return (f"Log-likelihood, exact: -log p(v) = {z.nll:.3f} nats per validation {each} "
                f"(log Z = {z.log_z:.3f}, all 2^{run.config.model.latent_dim} hidden states "
                f"summed; epoch {epoch}).")
    bar = (f" (±3 standard errors: {z.log_z - z.below:.2f} … {z.log_z + z.above:.2f})"
           if z.below is not None else "")
    s = run.config.rbm_settings
    return (f"Log-likelihood, an AIS estimate: -log p(v) ≈ {z.nll:.2f} nats per validation "
            f"{each}, with log Z ≈ {z.log_z:.2f}{bar} from {s.ais_chains} runs over "
            f"{s.ais_steps} temperatures (epoch {epoch}). Too few temperatures bias it, "
            "which the error bar does not show.")
