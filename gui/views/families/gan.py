"""A GAN's own views: on images, the discriminator's view takes the reconstructions' place.

A GAN has no encoder, so nothing reconstructs; :class:`~gui.panels.discriminator_view.
DiscriminatorViewPanel` shows real and generated images side by side with what the
discriminator makes of them, and says why there are no reconstructions. On 2-D points
data space shows D(x) instead (the generic view), so the page is for images only.
"""

from __future__ import annotations

from engine.models import GAN
from gui.panels.discriminator_view import DiscriminatorViewPanel
from gui.views.families.base import FamilyViews, register_views


@register_views(GAN)
class GanViews(FamilyViews):
    """The discriminator's view of real and generated images (see the module docstring)."""

    reconstruction_title = "Real versus generated (a GAN reconstructs nothing)"

    def __init__(self, data_space, parent=None):
        super().__init__(data_space, parent)
        self.discriminator = DiscriminatorViewPanel()
        self.reconstruction_page = self.discriminator
        self._points = False

    def set_run(self, run, traits, points) -> None:
        self._points = points
        if not points:
            self.discriminator.set_run(run.data, traits.missing.get("reconstructions", ""))

    def show(self, run, epoch, snapshot) -> None:
        if not self._points:
            self.discriminator.show_snapshot(snapshot)
