"""The Training tab's panels with the code views' interface, for the lessons and the Code
views tab: reconstructions, samples from the prior (mean or a sample of p(x|z)) and the
latent explorer, each fed ``set_run(run)`` / ``show_epoch(run, epoch)``.

The Training tab keeps binding its own instances through
:class:`~gui.views.training_views.TrainingViews`; these wrap new ones.
"""

from __future__ import annotations

from engine.decoding import LatentDecoder
from engine.data.toy2d import is_point_data
from engine.models import family_class
from gui.panels.code_view import CodeViewPanel, images_reason
from gui.panels.latent_explorer import LatentExplorerPanel
from gui.panels.reconstructions import ReconstructionsPanel
from gui.panels.samples import NOT_VARIATIONAL, SamplesPanel


class ReconstructionsView(CodeViewPanel):
    """The probe images and their reconstructions at the shown epoch."""

    view_name = "reconstructions"
    object_name = "reconstructionsView"
    title = "Reconstructions"
    needs = ("probe_recon",)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.panel = ReconstructionsPanel()
        self.panel.fit_count = True      # a lesson's column or a code view: fewer, larger
        self.body_layout.addWidget(self.panel)

    def why_not(self, run) -> str:
        traits = family_class(run.config).traits(run.config)
        if not traits.reconstructs:
            return traits.missing.get("reconstructions", "This model reconstructs nothing.")
        return images_reason(run, "Reconstructions")

    def prepare(self, run) -> None:
        self.panel.set_run(run.data, run.config.objective.corruption != "none")

    def draw(self, run, epoch, snapshot) -> None:
        self.panel.show_snapshot(snapshot)

    def reset_plots(self) -> None:
        self.panel.clear()


class SamplesView(CodeViewPanel):
    """Samples from the prior at the shown epoch, the mean or a sample of p(x|z)."""

    view_name = "samples"
    object_name = "samplesView"
    title = "Samples"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.panel = SamplesPanel()
        self.panel.count_spin.setValue(16)   # 4 x 4 fit a lesson's column at a readable size
        self.body_layout.addWidget(self.panel)

    def why_not(self, run) -> str:
        traits = family_class(run.config).traits(run.config)
        if not traits.prior_samples:
            return traits.missing.get("samples", NOT_VARIATIONAL)
        return images_reason(run, "The samples panel")

    def prepare(self, run) -> None:
        self.panel.set_variational(True)

    def draw(self, run, epoch, snapshot) -> None:
        self.panel.show_decoder(run.decoder(epoch), epoch)

    def reset_plots(self) -> None:
        self.panel.set_variational(False)


class LatentExplorerView(CodeViewPanel):
    """The latent map and its decoding marker at the shown epoch."""

    view_name = "latent_explorer"
    object_name = "latentExplorerView"
    title = "Latent explorer"
    needs = ("map_latents",)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.explorer = LatentExplorerPanel()
        self.body_layout.addWidget(self.explorer)

    def why_not(self, run) -> str:
        if not LatentDecoder.available(run.config):
            return f"A {run.config.model.family} has no latent map to explore."
        return ""

    def prepare(self, run) -> None:
        self.explorer.set_run(run.config, run.data)
        # 2-D points decode to a point, not an image: the data space shows where it lands.
        images = not is_point_data(run.data.image_shape)
        self.explorer.decoded_pane.setVisible(images)
        self.explorer.pinned.setVisible(images)

    def draw(self, run, epoch, snapshot) -> None:
        self.explorer.show_snapshot(snapshot, run.decoder(epoch))

    def reset_plots(self) -> None:
        self.explorer.clear()
