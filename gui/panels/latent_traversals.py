"""Latent traversals: one image's code, each dimension swept while the others are held.

One row per latent dimension, largest KL first (code variance for a model
without a KL), collapsed dimensions' labels grey; columns from -3 to +3
standard deviations of the prior or of the image's posterior
(:func:`engine.analysis.traversal.traversal_grid`). A disentangled
dimension moves one factor of the sprite — its x, its size — and a
collapsed one changes nothing. It decodes with the epoch's CPU copy of the
model (never the training one), so it follows the run live and in replay;
*Save PNG…* and *Save GIF…* write what ``export --traversals`` writes.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QPushButton, QSpinBox

from engine.analysis.traversal import RANGES, TraversalGrid, traversal_grid
from engine.export.canvas import save_gif, save_png
from engine.export.traversal_figures import FRAME_MS, traversal_frames, traversal_png
from gui.panels.code_view import CodeViewPanel, epoch_words
from gui.panels.measure_reasons import NO_CODES, decoding_reason
from gui.widgets.caption import caption_label
from gui.widgets.image_pane import ImagePane
from gui.widgets.naming import named

#: Rows the view shows (largest KL first); the PNG and GIF hold every dimension.
SHOWN_ROWS = 12


class LatentTraversalsPanel(CodeViewPanel):
    """The traversal grid of a chosen probe image at the shown epoch."""

    view_name = "latent_traversals"
    object_name = "latentTraversals"
    title = "Latent traversals"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.image_box = named(QSpinBox(), "traversalImage", "Which probe image to traverse")
        self.image_box.setPrefix("probe image ")
        self.range_box = named(QComboBox(), "traversalRange",
                               "Sweep standard deviations of the prior or of the posterior")
        self.range_box.addItem("±3 sd of the prior", "prior")
        self.range_box.addItem("±3 sd of its posterior", "posterior")
        self.png_button = named(QPushButton("Save PNG…"), "traversalSavePng",
                                "Save the traversal grid as PNG")
        self.gif_button = named(QPushButton("Save GIF…"), "traversalSaveGif",
                                "Save the traversal as an animated GIF")
        controls = QHBoxLayout()
        for w in (self.image_box, self.range_box):
            controls.addWidget(w)
        controls.addStretch(1)
        controls.addWidget(self.png_button)
        controls.addWidget(self.gif_button)
        self.pane = named(ImagePane(), "traversalGrid",
                          "Decoded images, one row per latent dimension")
        self.caption = caption_label("", "traversalCaption", "Traversal caption", wrap=True)
        self.body_layout.addLayout(controls)
        self.body_layout.addWidget(self.pane, 1)
        self.body_layout.addWidget(self.caption)
        self.grid: TraversalGrid | None = None
        self.image_box.valueChanged.connect(self._redraw)
        self.range_box.currentIndexChanged.connect(self._redraw)
        self.png_button.clicked.connect(lambda: self._save("png"))
        self.gif_button.clicked.connect(lambda: self._save("gif"))

    # -- the view interface -------------------------------------------------------------
    def why_not(self, run) -> str:
        return decoding_reason(run, "Latent traversals")

    def prepare(self, run) -> None:
        n = len(run.data.probe_images)
        self.image_box.setRange(0, max(0, n - 1))

    def draw(self, run, epoch, snapshot) -> None:
        arrays = snapshot.arrays
        if "probe_latent_mean" not in arrays or "map_latents" not in arrays:
            self._say(NO_CODES.format(view="the traversal"))
            return
        variational = "probe_latent_logvar" in arrays
        self.range_box.model().item(1).setEnabled(variational)
        if not variational and self.range_box.currentIndex() == 1:
            self.range_box.setCurrentIndex(0)      # redraws through the signal
            return
        decoder = run.decoder(epoch)
        if decoder is None:
            self._say("This epoch's decoder weights cannot be read, so nothing is decoded.")
            return
        kind = self.range_box.currentData() or RANGES[0]
        self.grid = traversal_grid(arrays, self.image_box.value(), decoder.decode, kind)
        shown = TraversalGrid(self.grid.images[:SHOWN_ROWS], self.grid.order[:SHOWN_ROWS],
                              self.grid.active[:SHOWN_ROWS], self.grid.values[:SHOWN_ROWS],
                              None if self.grid.kl is None else self.grid.kl[:SHOWN_ROWS], kind)
        picture = traversal_png(shown, self._title(epoch), text=20)
        self.pane.set_image(picture.astype(np.float32) / 255.0)
        d = len(self.grid.order)
        dead = int((~self.grid.active).sum())
        rows = (f"the {SHOWN_ROWS} of {d} dimensions with the largest "
                f"{'KL' if self.grid.kl is not None else 'code variance'} (the PNG has all)"
                if d > SHOWN_ROWS else f"all {d} dimensions, largest "
                f"{'KL' if self.grid.kl is not None else 'code variance'} first")
        self.caption.setText(
            f"{epoch_words(epoch, run.weights_note(epoch))}{rows}; {dead} collapsed (grey label: the image does not "
            f"change along them). "
            + ("Sweeping the posterior: a dimension the model is sure of barely moves."
               if kind == "posterior" else
               "Each row holds the others at this image's code." if variational else
               "A deterministic code has no prior: ±3 sd of each dimension over the map's "
               "images."))

    def reset_plots(self) -> None:
        self.grid = None
        self.pane.set_image(None)

    # -- helpers ----------------------------------------------------------------------------
    def _title(self, epoch: int) -> str:
        name = self.run.config.name if self.run is not None else ""
        return f"{name} · epoch {epoch} · probe image {self.image_box.value()}"

    def _redraw(self, *_args) -> None:
        if self.run is not None and self.epoch is not None and self.applies:
            self.show_epoch(self.run, self.epoch)

    def _save(self, what: str, path: str | None = None) -> str | None:
        """Write the whole grid (every dimension) as PNG or GIF; returns the path written."""
        if self.grid is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, f"Save the traversal as {what.upper()}",
                                                  f"traversal.{what}", f"{what.upper()} (*.{what})")
            if not path:
                return None
        title = self._title(self.epoch or 0)
        try:
            if what == "png":
                save_png(traversal_png(self.grid, title), path)
            else:
                save_gif(traversal_frames(self.grid, title), path, FRAME_MS)
        except OSError as e:
            self.caption.setText(f"Could not write {path}: {e.strerror or e}. Choose another "
                                 "folder.")
            return None
        return path

