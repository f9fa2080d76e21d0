"""The views of 2-D point data and of the families with views of their own, beside the
Training tab's own.

:class:`~gui.views.training_views.TrainingViews` shows every run; for some runs a
place of its holds something else:

- 2-D point data (any family): the reconstructions' place shows
  :class:`~gui.panels.data_space.DataSpacePanel`, the plane itself; the
  latent explorer's marker is drawn there, decoded.
- a family with views of its own (:mod:`gui.views.families`: a GAN's discriminator
  view, an RBM's bottom row) puts its pages in those places; the registry finds them
  by the run's model class.

What the generic views show follows the family's :class:`~engine.models.ModelTraits`
(samples or why not, the loss plot's axis). Everything runs on the displayed epoch's
CPU copy of the weights (``RunState.cpu_model``), like the explorer's decoder.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from engine.data.toy2d import is_point_data
from engine.models import family_class
from gui.panels.data_space import DataSpacePanel
from gui.panels.latent_explorer import LatentExplorerPanel
from gui.panels.loss_curves import LossCurvesPanel
from gui.panels.samples import NOT_VARIATIONAL, SamplesPanel
from gui.run.state import RunState
from gui.views.families import FAMILY_VIEWS, FamilyViews, family_of

POINT_SAMPLES = "For 2-D points the samples are the orange points in data space."
DATA_SPACE = "Data space"


class GenerativeViews(QObject):
    """Owns data space and every family's own views, and says which places they take.

    Attributes
    ----------
    data_space : the plane of 2-D point data.
    families : model class -> its :class:`~gui.views.families.FamilyViews`.
    reconstruction_pages : widgets for the reconstructions' switch (data space, then
        the families' pages).
    bottom_pages : widgets for the bottom row's switch (the families' pages).
    frames : export targets of the families' views.
    """

    def __init__(self, explorer: LatentExplorerPanel, samples: SamplesPanel,
                 loss: LossCurvesPanel, parent: QObject | None = None):
        super().__init__(parent)
        self.explorer, self.samples, self.loss = explorer, samples, loss
        self.data_space = DataSpacePanel()
        self.families: dict[type, FamilyViews] = {
            family: views(self.data_space, self) for family, views in FAMILY_VIEWS.items()}
        own = list(self.families.values())
        self.reconstruction_pages: list[QWidget] = [self.data_space] + [
            v.reconstruction_page for v in own if v.reconstruction_page is not None]
        self.bottom_pages: list[QWidget] = [v.bottom_page for v in own
                                            if v.bottom_page is not None]
        self.frames = {k: w for v in own for k, w in v.frames.items()}
        self.run: RunState | None = None
        explorer.decoded.connect(self._on_decoded)

    def views_of(self, run: RunState) -> FamilyViews | None:
        """The views of ``run``'s family, or None when it has none of its own."""
        return self.families.get(family_of(run))

    # -- which place shows what ---------------------------------------------------------
    def reconstruction_page(self, run: RunState) -> QWidget | None:
        """The page for the reconstructions' place, or None for the reconstructions."""
        if is_point_data(run.data.image_shape):
            return self.data_space
        views = self.views_of(run)
        return None if views is None else views.page_for_reconstructions(False)

    def reconstruction_title(self, run: RunState) -> str:
        """The title of the reconstructions' place when :meth:`reconstruction_page` is not None."""
        if is_point_data(run.data.image_shape):
            return DATA_SPACE
        views = self.views_of(run)
        return "" if views is None else views.reconstruction_title

    def bottom_page(self, run: RunState) -> QWidget | None:
        views = self.views_of(run)
        return None if views is None else views.bottom_page

    # -- a run, an epoch ----------------------------------------------------------------
    def set_run(self, run: RunState) -> None:
        """A new run on display: prepare the views its family and data use."""
        self.run = run
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
        views = self.views_of(run)
        if views is not None:
            views.set_run(run, traits, points)
        self.loss.log_check.setChecked(traits.log_loss)

    def clear(self) -> None:
        self.run = None
        self.data_space.clear()
        for views in self.families.values():
            views.clear()
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
        views = self.views_of(run)
        if views is not None:
            views.show(run, epoch, snapshot)

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
