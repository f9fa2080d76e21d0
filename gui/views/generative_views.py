"""The views of the generative families and of 2-D point data, beside the Training tab's own.

:class:`~gui.views.training_views.TrainingViews` shows every run; for some runs a
place of its holds something else (each family's
:class:`~engine.models.ModelTraits` says what it has):

- 2-D point data (any family): the reconstructions' place shows
  :class:`~gui.panels.data_space.DataSpacePanel`, the plane itself; the
  latent explorer's marker is drawn there, decoded.
- a GAN on images: no reconstructions (it has no encoder), so that place
  shows :class:`~gui.panels.discriminator_view.DiscriminatorViewPanel`, and
  says why.
- an RBM: the bottom row shows its stochastic encoder/decoder, live Gibbs
  chains and its hidden units' weights as features, instead of the latent
  explorer and prior samples it has no use for.

Everything runs on CPU copies of the displayed epoch's weights
(:func:`engine.models.cpu_copy`), like the explorer's decoder.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from engine.data.toy2d import is_point_data
from engine.models import cpu_copy, family_class
from engine.pretraining.stack import first_layer_features
from gui.panels.data_space import DataSpacePanel
from gui.panels.discriminator_view import DiscriminatorViewPanel
from gui.panels.feature_grid import FeatureGridPanel
from gui.panels.latent_explorer import LatentExplorerPanel
from gui.panels.loss_curves import LossCurvesPanel
from gui.panels.rbm_views import GibbsChainsPanel, StochasticCodesPanel
from gui.panels.samples import NOT_VARIATIONAL, SamplesPanel
from gui.run.state import RunState
from gui.widgets.caption import caption_label
from gui.widgets.frame import framed

POINT_SAMPLES = "For 2-D points the samples are the orange points in data space."


class GenerativeViews(QObject):
    """Owns the family- and data-specific panels and says which places they take.

    Attributes
    ----------
    reconstruction_pages : widgets for the reconstructions' switch (data space, the
        discriminator's view), in this order.
    bottom_pages : widgets for the bottom row's switch (the RBM's views).
    frames : export targets (``data-space``, ``discriminator``, ``stochastic-codes``,
        ``gibbs-chains``, ``rbm-features``).
    """

    def __init__(self, explorer: LatentExplorerPanel, samples: SamplesPanel,
                 loss: LossCurvesPanel, parent: QObject | None = None):
        super().__init__(parent)
        self.explorer, self.samples, self.loss = explorer, samples, loss
        self.data_space = DataSpacePanel()
        self.discriminator = DiscriminatorViewPanel()
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
        rbm_page = QWidget()
        page_layout = QVBoxLayout(rbm_page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.addWidget(self.likelihood_label)
        page_layout.addWidget(views, 1)
        self.reconstruction_pages = [self.data_space, self.discriminator]
        self.bottom_pages = [rbm_page]
        self.run: RunState | None = None
        self._copy_of: tuple | None = None
        self._copy = None
        self.chains.points_changed.connect(self.data_space.show_chains)
        explorer.decoded.connect(self._on_decoded)

    # -- which place shows what ---------------------------------------------------------
    def reconstruction_page(self, run: RunState) -> QWidget | None:
        if is_point_data(run.data.image_shape):
            return self.data_space
        if not family_class(run.config).traits(run.config).reconstructs \
                and run.config.model.family == "gan":
            return self.discriminator
        return None

    def bottom_page(self, run: RunState) -> QWidget | None:
        return self.bottom_pages[0] if run.config.model.family == "rbm" else None

    # -- a run, an epoch ----------------------------------------------------------------
    def set_run(self, run: RunState) -> None:
        """A new run on display: prepare the views its family and data use."""
        self.run, self._copy_of, self._copy = run, None, None
        cfg, data = run.config, run.data
        traits = family_class(cfg).traits(cfg)
        points = is_point_data(data.image_shape)
        self.explorer.decoded_pane.setVisible(not points)
        self.explorer.pinned.setVisible(not points)
        self.samples.pane.setVisible(not points)
        if points:
            self.data_space.set_run(run)
            self.samples.set_variational(False, POINT_SAMPLES)
        else:
            self.data_space.clear()
            self.samples.set_variational(traits.prior_samples,
                                         traits.missing.get("samples", NOT_VARIATIONAL))
        if cfg.model.family == "gan" and not points:
            self.discriminator.set_run(data, traits.missing.get("reconstructions", ""))
        if cfg.model.family == "rbm":
            self.codes.set_run(data.probe_images)
            self.chains.set_run(data.probe_images)
            self.frames["rbm-features"].setVisible(not points)
            self.features.set_features(None, "The hidden units' weights appear after the "
                                             "first epoch.")
            self.likelihood_label.setText(f"Log-likelihood: {traits.likelihood}.")
        # An RBM's free energies are negative: a log axis would hide them.
        self.loss.log_check.setChecked(cfg.model.family != "rbm")

    def clear(self) -> None:
        self.run, self._copy = None, None
        self.data_space.clear()
        self.chains.set_run(np.zeros((0, 1, 1, 1), np.float32))
        self.explorer.decoded_pane.setVisible(True)
        self.explorer.pinned.setVisible(True)
        self.samples.pane.setVisible(True)

    def show(self, run: RunState, epoch: int, snapshot) -> None:
        """The displayed epoch of ``run`` in every view of this binder."""
        if run is not self.run:
            return
        if is_point_data(run.data.image_shape):
            self.data_space.show_epoch(run, epoch)
            self._on_decoded()
        elif run.config.model.family == "gan":
            self.discriminator.show_snapshot(snapshot)
        if run.config.model.family == "rbm":
            model = self._cpu_model(run, epoch, snapshot)
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

    def _cpu_model(self, run: RunState, epoch: int, snapshot):
        key = (run.run_id, epoch, snapshot.step)
        if key != self._copy_of:
            try:
                self._copy = cpu_copy(run.config, tuple(run.data.image_shape), snapshot.weights)
            except ValueError:
                self._copy = None
            self._copy_of = key
        return self._copy

    def _on_decoded(self) -> None:
        """The explorer's marker, decoded, as a point in data space."""
        run = self.run
        if run is None or not is_point_data(run.data.image_shape):
            return
        if self.bottom_page(run) is not None:   # the explorer is not on screen (an RBM's views)
            self.data_space.show_marker(None)
            return
        image = self.explorer.decoded_image
        self.data_space.show_marker(None if image is None else np.ravel(image)[:2])


def likelihood_words(run: RunState, epoch: int, snapshot) -> str:
    """An RBM's log-likelihood at an epoch, and how it was computed (exact, or AIS)."""
    name = next((t for t in ("nll_exact", "nll_ais") if t in run.val), None)
    nll = run.val.get(name, {}).get(epoch) if name else None
    free = run.val.get("free_energy", {}).get(epoch)
    if nll is None or free is None:
        return f"Log-likelihood: {family_class(run.config).traits(run.config).likelihood}."
    log_z = nll - free
    each = "point" if is_point_data(run.data.image_shape) else "image"
    if name == "nll_exact":
        return (f"Log-likelihood, exact: -log p(v) = {nll:.3f} nats per validation {each} "
                f"(log Z = {log_z:.3f}, all 2^{run.config.model.latent_dim} hidden states "
                f"summed; epoch {epoch}).")
    a = snapshot.arrays
    bar = (f" (±3 standard errors: {log_z - float(a['log_z_below']):.2f} … "
           f"{log_z + float(a['log_z_above']):.2f})" if "log_z_below" in a else "")
    s = run.config.rbm_settings
    return (f"Log-likelihood, an AIS estimate: -log p(v) ≈ {nll:.2f} nats per validation "
            f"{each}, with log Z ≈ {log_z:.2f}{bar} from {s.ais_chains} runs over "
            f"{s.ais_steps} temperatures (epoch {epoch}). Too few temperatures bias it, "
            "which the error bar does not show.")
