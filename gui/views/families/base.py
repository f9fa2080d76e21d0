"""The views a family has of its own, and the registry that finds them by the family's class.

Every run gets the generic views of the Training tab, chosen by its family's
:class:`~engine.models.ModelTraits` (reconstructions, the latent explorer, samples, loss
curves); a family with views of its own subclasses :class:`FamilyViews` in a file of its
own (:mod:`gui.views.families.gan`, :mod:`gui.views.families.rbm`) and registers it for
its model class with :func:`register_views` — napari maps a layer type to its controls
the same way. :class:`~gui.views.generative_views.GenerativeViews` builds one of each at
start and asks the registry, never a family's name, which to show; each follows the run
model (:mod:`gui.run.following`) and takes the runs of its own family.
"""

from __future__ import annotations

from typing import Callable, ClassVar

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from engine.data.toy2d import is_point_data
from engine.errors import ConfigError
from engine.models import Model, ModelTraits, family_class
from gui.panels.data_space import DataSpacePanel
from gui.run.following import FollowsModel
from gui.run.state import RunState


class FamilyViews(FollowsModel, QObject):
    """A family's own views and the places of the Training tab they take.

    Attributes
    ----------
    reconstruction_page : shown in the reconstructions' place for runs on images (None:
        the generic reconstructions stay); titled :attr:`reconstruction_title`.
    bottom_page : shown in the bottom row instead of the latent explorer and the samples
        (None: they stay); the explorer is then off screen.
    frames : export targets (*File → Export figure*), by key.

    Subclasses build their panels in ``__init__`` and override :meth:`set_run`,
    :meth:`show` and :meth:`clear`; :func:`register_views` sets :attr:`family`.
    """

    reconstruction_title: ClassVar[str] = ""
    family: ClassVar[type[Model] | None] = None

    def __init__(self, data_space: DataSpacePanel, parent: QObject | None = None):
        super().__init__(parent)
        self.data_space = data_space
        self.reconstruction_page: QWidget | None = None
        self.bottom_page: QWidget | None = None
        self.frames: dict[str, QWidget] = {}
        self.run: RunState | None = None     # the run of this family on display

    # -- following the run model ------------------------------------------------------
    def on_reset(self) -> None:
        self.run = None
        self.clear()

    def on_run_added(self, run: RunState) -> None:
        if run.is_classifier or run.config is None or self.run_model.shows_stages:
            return
        self.run = run if family_of(run) is self.family else None
        if self.run is not None:
            cfg = run.config
            self.set_run(run, family_class(cfg).traits(cfg), is_point_data(run.data.image_shape))

    def on_position(self, run: RunState, epoch: int) -> None:
        if run is self.run and self.run_model.may_build_decoders:
            self.show(run, epoch, run.snapshot(epoch))

    def page_for_reconstructions(self, points: bool) -> QWidget | None:
        """The page for the reconstructions' place (2-D points keep data space)."""
        return None if points else self.reconstruction_page

    def set_run(self, run: RunState, traits: ModelTraits, points: bool) -> None:
        """A run of this family comes on display (``points``: its data are 2-D points)."""

    def show(self, run: RunState, epoch: int, snapshot) -> None:
        """The displayed epoch; a view that runs the model uses ``run.cpu_model(epoch)``,
        the one CPU copy of that epoch's weights the other views share."""

    def clear(self) -> None:
        """Nothing of this family on display."""


FAMILY_VIEWS: dict[type[Model], type[FamilyViews]] = {}


def register_views(family: type[Model]) -> Callable[[type[FamilyViews]], type[FamilyViews]]:
    """Class decorator: ``views`` are the views of runs of ``family``."""
    def decorate(views: type[FamilyViews]) -> type[FamilyViews]:
        FAMILY_VIEWS[family] = views
        views.family = family
        return views
    return decorate


def family_of(run: RunState) -> type[Model] | None:
    """The model class of a run on display (None for an unknown family)."""
    try:
        return family_class(run.config)
    except ConfigError:   # a session of a family this app does not know
        return None
