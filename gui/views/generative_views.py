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

Each of these follows the run model itself (:mod:`gui.run.following`), as the generic
views do (what those show follows the family's :class:`~engine.models.ModelTraits`:
samples or why not, the loss plot's axis); this class owns them and says which place
shows what. Everything runs on the displayed epoch's CPU copy of the weights
(``RunState.cpu_model``), like the explorer's decoder.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from engine.data.toy2d import is_point_data
from gui.panels.data_space import DataSpacePanel
from gui.panels.latent_explorer import LatentExplorerPanel
from gui.run.model import RunModel
from gui.run.state import RunState
from gui.views.families import FAMILY_VIEWS, FamilyViews, family_of

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

    def __init__(self, model: RunModel, explorer: LatentExplorerPanel,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.model, self.explorer = model, explorer
        self.data_space = DataSpacePanel()
        self.data_space.at_once = True     # before the family's views draw on it (chains)
        self.families: dict[type, FamilyViews] = {
            family: views(self.data_space, self) for family, views in FAMILY_VIEWS.items()}
        own = list(self.families.values())
        self.reconstruction_pages: list[QWidget] = [self.data_space] + [
            v.reconstruction_page for v in own if v.reconstruction_page is not None]
        self.bottom_pages: list[QWidget] = [v.bottom_page for v in own
                                            if v.bottom_page is not None]
        self.frames = {k: w for v in own for k, w in v.frames.items()}
        for view in (self.data_space, *own):
            view.follow(model)
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

    def _on_decoded(self) -> None:
        """The explorer's marker, decoded, as a point in data space."""
        run = self.model.shown_run
        if run is None or run.is_classifier or not is_point_data(run.data.image_shape):
            return
        if self.bottom_page(run) is not None:   # the explorer is not on screen (an RBM's views)
            self.data_space.show_marker(None)
            return
        image = self.explorer.decoded_image
        self.data_space.show_marker(None if image is None else np.ravel(image)[:2])
