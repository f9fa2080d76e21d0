"""The large view of one probe image: original, input, reconstruction, per-pixel error."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QVBoxLayout, QWidget

from engine.tiles import to_display
from gui.widgets.image_pane import ImagePane
from gui.widgets.naming import named


class ImageDetailDialog(QDialog):
    """A non-modal window with one probe image at a readable size.

    The error map is ``|x - x̂|`` averaged over channels, on a fixed 0–1
    colour scale so that epochs compare by eye.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "imageDetailDialog", "Image detail")
        self.setModal(False)
        self.resize(760, 300)
        self.panes = {
            "original": named(ImagePane("original"), "detailOriginal", "Original image"),
            "input": named(ImagePane("noisy input"), "detailInput", "Corrupted input"),
            "reconstruction": named(ImagePane("reconstruction"), "detailReconstruction",
                                    "Reconstruction"),
            "error": named(ImagePane("|error| per pixel", colormap="inferno"), "detailError",
                           "Per-pixel error"),
        }
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("inferno"),
                                        interactive=False, width=12)
        self.colorbar.setImageItem(self.panes["error"].image_item,
                                   insert_in=None)
        self.panes["error"].addItem(self.colorbar, row=1, col=1)
        self.summary = named(QLabel(), "detailSummary", "Error summary")
        grid = QGridLayout()
        for i, pane in enumerate(self.panes.values()):
            pane.setMinimumSize(150, 150)
            grid.addWidget(pane, 0, i)
        layout = QVBoxLayout(self)
        layout.addLayout(grid, 1)
        layout.addWidget(self.summary)
        self.index = -1
        self.error: np.ndarray | None = None

    def show_probe(self, index: int, original: np.ndarray, corrupted: np.ndarray | None,
                   reconstruction: np.ndarray | None, epoch: int | None) -> None:
        """Show probe ``index``: arrays are (C, H, W) in [0, 1]."""
        self.index = index
        self.setWindowTitle(f"Probe image {index}" + (f" — epoch {epoch}" if epoch else ""))
        self.panes["original"].set_image(to_display(original)[0])
        self.panes["input"].setVisible(corrupted is not None)
        if corrupted is not None:
            self.panes["input"].set_image(to_display(corrupted)[0])
        has_recon = reconstruction is not None
        self.panes["reconstruction"].setVisible(has_recon)
        self.panes["error"].setVisible(has_recon)
        if not has_recon:
            self.error = None
            self.summary.setText("No reconstruction yet: train at least one epoch.")
            return
        self.panes["reconstruction"].set_image(to_display(reconstruction)[0])
        self.error = np.abs(np.asarray(original) - np.asarray(reconstruction)).mean(axis=0)
        self.panes["error"].set_image(self.error)
        rmse = float(np.sqrt(np.mean((np.asarray(original) - np.asarray(reconstruction)) ** 2)))
        self.summary.setText(f"mean |error| {self.error.mean():.4f}   "
                             f"max |error| {self.error.max():.4f}   RMSE {rmse:.4f}")
