"""Reconstructions: probe images in rows — original | corrupted input | reconstruction.

The probe set is the same images every epoch, so moving the replay
timeline shows one digit's reconstruction sharpen. The grid is one image
item (a mosaic), cheap to update; a click on a cell opens the large view
with the per-pixel error (:class:`~gui.panels.image_detail.ImageDetailDialog`).
On the Training tab the panel follows the run model (:mod:`gui.run.following`); the
lessons and the Code views tab wrap one of their own
(:class:`~gui.panels.wrapped_views.ReconstructionsView`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

import gui.style  # noqa: F401  (row-major images)
from engine.events import DatasetInfo, EpochSnapshot
from engine.tiles import tile, to_display
from gui.panels.image_detail import ImageDetailDialog
from gui.run.following import FollowsModel
from gui.widgets.caption import caption_label
from gui.widgets.naming import named
from gui.widgets.placeholder import Placeholder
from gui.widgets.titled_image_view import add_titled_image_view

PAD = 1          # pixels between images
GROUP_GAP = 6    # extra pixels between groups of rows


@dataclass(frozen=True)
class ReconLayout:
    """Where each probe image sits in the mosaic.

    The mosaic is ``groups`` bands; each band holds ``cols`` probe images
    and one row per entry of ``rows`` (``'original'``, ``'input'``,
    ``'reconstruction'``).
    """

    n: int
    cols: int
    rows: tuple[str, ...]
    h: int
    w: int

    @property
    def groups(self) -> int:
        return max(1, -(-self.n // self.cols))

    @property
    def band_height(self) -> int:
        return len(self.rows) * (self.h + PAD) - PAD + GROUP_GAP

    def cell_at(self, x: float, y: float) -> tuple[int, str] | None:
        """(probe index, row name) at mosaic pixel (x, y), or None between cells."""
        if x < 0 or y < 0:
            return None
        g, yin = divmod(int(y), self.band_height)
        r, ry = divmod(yin, self.h + PAD)
        c, cx = divmod(int(x), self.w + PAD)
        if r >= len(self.rows) or ry >= self.h or cx >= self.w or c >= self.cols:
            return None
        index = g * self.cols + c
        return (index, self.rows[r]) if index < self.n else None

    def row_centres(self) -> list[tuple[float, str]]:
        out = []
        for g in range(self.groups):
            for r, name in enumerate(self.rows):
                out.append((g * self.band_height + r * (self.h + PAD) + self.h / 2, name))
        return out


ROW_TITLES = {"original": "original", "input": "noisy input", "reconstruction": "reconstructed"}


class ReconstructionsPanel(FollowsModel, QWidget):
    """The probe images and their reconstructions at the displayed epoch."""

    cell_clicked = Signal(int, str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "reconstructionsPanel", "Reconstructions")
        self.graphics = named(pg.GraphicsLayoutWidget(), "reconstructionsView",
                              "Reconstruction grid: click an image to see it large")
        self.axis, self.view, self.image_item = add_titled_image_view(self.graphics)
        self.image_item.mouseClickEvent = self._on_image_clicked

        self.count_spin = named(QSpinBox(), "reconCountSpin", "Images shown",
                                "How many probe images to show")
        self.count_spin.setRange(4, 64)
        self.count_spin.setSingleStep(4)
        self.count_spin.setValue(32)
        self.cols_spin = named(QSpinBox(), "reconColumnsSpin", "Images per row",
                               "Images per row; auto fits the panel")
        self.cols_spin.setRange(0, 32)
        self.cols_spin.setSpecialValueText("auto")
        self.cols_spin.setValue(0)
        self.caption = caption_label("Train a model to see reconstructions.",
                                     "reconstructionsCaption", "Reconstructions caption")

        controls = QHBoxLayout()
        controls.addWidget(self.caption, 1)
        self._count_label, self._cols_label = QLabel("Images"), QLabel("per row")
        for w in (self._count_label, self.count_spin, self._cols_label, self.cols_spin):
            controls.addWidget(w)
        self.controls = controls
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.graphics, 1)
        self.placeholder = Placeholder(self.graphics, "reconstructionsPlaceholder")

        self.data: DatasetInfo | None = None
        self.snapshot: EpochSnapshot | None = None
        self.denoising = False
        self.layout_info: ReconLayout | None = None
        self.detail: ImageDetailDialog | None = None
        #: choose how many images to show so that they are drawn at least at their own size
        #: (a narrow column of a lesson: 32 images were 15 pixels a digit); a count the user
        #: sets turns it off
        self.fit_count = False
        self._caption_above = False
        self.count_spin.valueChanged.connect(self._redraw)
        self.count_spin.valueChanged.connect(self._count_chosen)
        self.cols_spin.valueChanged.connect(self._redraw)
        self.clear()

    # -- data in ------------------------------------------------------------------
    def set_run(self, data: DatasetInfo, denoising: bool) -> None:
        """A new run: its probe images; ``denoising`` adds the corrupted-input row."""
        self.data, self.denoising, self.snapshot = data, denoising, None
        self._redraw()

    def show_snapshot(self, snapshot: EpochSnapshot | None) -> None:
        """Show the reconstructions of ``snapshot`` (None: originals only)."""
        self.snapshot = snapshot
        self._redraw()
        if self.detail is not None and self.detail.isVisible():
            self._open_detail(self.detail.index)

    def clear(self) -> None:
        self.data = self.snapshot = None
        self.layout_info = None
        self.image_item.clear()
        self.axis.setTicks([[]])
        self.axis.hide()   # its empty range read -0.4 … 0.4
        self.caption.setText("Train a model to see reconstructions.")
        self.placeholder.show_text("The same probe images and their reconstructions "
                                   "appear here every epoch.")

    # -- following the run model (the Training tab) -------------------------------
    def on_reset(self) -> None:
        self.clear()

    def on_run_added(self, run) -> None:
        if not run.is_classifier and not self.run_model.shows_stages:
            self.set_run(run.data, run.config.objective.corruption != "none")

    def on_position(self, run, epoch: int) -> None:
        snap = run.snapshot(epoch)
        if not self.run_model.shows_stages and "probe_recon" in snap.images:
            self.show_snapshot(snap)

    # -- drawing ------------------------------------------------------------------
    def _rows(self) -> tuple[str, ...]:
        if self.snapshot is None:
            return ("original",)
        return ("original", "input", "reconstruction") if self.denoising else (
            "original", "reconstruction")

    def _redraw(self) -> None:
        if self.data is None:
            return
        self.placeholder.show_text("")
        self.axis.show()
        probe = self.data.probe_images
        rows = self._rows()
        _, h, w = self.data.image_shape
        if self.fit_count:
            self.count_spin.blockSignals(True)
            self.count_spin.setValue(self._fitting_count(len(probe), len(rows), h, w))
            self.count_spin.blockSignals(False)
        n = min(self.count_spin.value(), len(probe))
        cols = min(self.cols_spin.value() or self._auto_columns(n, len(rows), h, w), n)
        sources = {"original": probe}
        if self.snapshot is not None:
            sources["input"] = self.snapshot.images["probe_inputs"]
            sources["reconstruction"] = self.snapshot.images["probe_recon"]
        info = ReconLayout(n=n, cols=cols, rows=rows, h=h, w=w)
        bands = []
        for g in range(info.groups):
            sl = slice(g * cols, min((g + 1) * cols, n))
            band = [tile(self._padded(to_display(sources[r][sl]), cols), cols, PAD) for r in rows]
            band_img = np.concatenate(_interleave(band, PAD), axis=0)
            bands.append(band_img)
        mosaic = np.concatenate(_interleave(bands, GROUP_GAP), axis=0)
        self.image_item.setImage(mosaic, levels=(0.0, 1.0))
        if info != self.layout_info:
            self.layout_info = info
            self.axis.setTicks([[(y, ROW_TITLES[name]) for y, name in info.row_centres()]])
            self.view.autoRange(padding=0.01)
        self.caption.setText(self._caption())
        self._place_caption()

    def _count_chosen(self, _value: int) -> None:
        self.fit_count = False

    def _fitting_count(self, available: int, rows: int, h: int, w: int) -> int:
        """The most images (a multiple of 4, at least 4) the view shows at their own size
        or larger, with the images per row chosen as :meth:`_auto_columns` does."""
        top = min(self.count_spin.maximum(), available)
        for n in range(top - top % 4, 3, -4):
            if self._auto_columns(n, rows, h, w, scale=True)[1] >= 1.0:
                return n
        return min(4, top)

    def _place_caption(self) -> None:
        """The caption beside the spin boxes when it fits there, else on a line of its own
        above them (cut to "Epoch 10: click an i" in a lesson's narrow column)."""
        others = sum(x.sizeHint().width() for x in (self._count_label, self.count_spin,
                                                     self._cols_label, self.cols_spin))
        need = self.caption.fontMetrics().horizontalAdvance(self.caption.text()) + others + 40
        above = self.width() < need
        if above == self._caption_above:
            return
        self._caption_above = above
        layout = self.layout()
        if above:
            self.controls.removeWidget(self.caption)
            self.controls.insertStretch(0, 1)
            layout.insertWidget(0, self.caption)
        else:
            layout.removeWidget(self.caption)
            stretch = self.controls.takeAt(0)
            del stretch
            self.controls.insertWidget(0, self.caption, 1)

    def _auto_columns(self, n: int, rows: int, h: int, w: int, scale: bool = False):
        """The images per row that show the images largest in the view's current size
        (``scale``: with the screen pixels per image pixel that gives)."""
        width = max(1.0, self.graphics.width() - 90.0)   # less the row titles
        height = max(1.0, float(self.graphics.height()))
        best, best_scale = n, 0.0
        for cols in range(1, n + 1):
            groups = -(-n // cols)
            mosaic_w = cols * (w + PAD) - PAD
            mosaic_h = groups * (rows * (h + PAD) - PAD + GROUP_GAP) - GROUP_GAP
            fit = min(width / mosaic_w, height / mosaic_h)
            if fit >= best_scale * 1.0001:
                best, best_scale = cols, fit
        return (best, best_scale) if scale else best

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if (self.cols_spin.value() == 0 or self.fit_count) and self.data is not None:
            self._redraw()
        self._place_caption()

    @staticmethod
    def _padded(images: np.ndarray, cols: int) -> np.ndarray:
        """Fill a short last band with blank (white) cells so bands line up."""
        if len(images) >= cols:
            return images
        blank = np.ones((cols - len(images), *images.shape[1:]), images.dtype)
        return np.concatenate([images, blank])

    def _caption(self) -> str:
        if self.snapshot is None:
            return "Probe images (reconstructions appear after the first epoch)"
        return f"Epoch {self.snapshot.epoch}: click an image to see it large"

    # -- clicks -------------------------------------------------------------------
    def _on_image_clicked(self, ev) -> None:
        if self.layout_info is None or ev.button() != Qt.LeftButton:
            return
        pos = ev.pos()
        cell = self.layout_info.cell_at(pos.x(), pos.y())
        if cell is None:
            return
        ev.accept()
        self.open_detail(cell[0])

    def open_detail(self, index: int) -> ImageDetailDialog | None:
        """Open (or update) the large view of probe image ``index``."""
        self.cell_clicked.emit(index, "")
        return self._open_detail(index)

    def _open_detail(self, index: int) -> ImageDetailDialog | None:
        if self.data is None:
            return None
        if self.detail is None:
            self.detail = ImageDetailDialog(self)
        snap = self.snapshot
        self.detail.show_probe(
            index=index, original=self.data.probe_images[index],
            corrupted=snap.images["probe_inputs"][index] if snap is not None and self.denoising else None,
            reconstruction=snap.images["probe_recon"][index] if snap is not None else None,
            epoch=snap.epoch if snap is not None else None)
        self.detail.show()
        self.detail.raise_()
        return self.detail


def _interleave(blocks: list[np.ndarray], gap: int) -> list[np.ndarray]:
    """Blocks with white gap rows between them, ready for vertical concatenation."""
    out = []
    for i, b in enumerate(blocks):
        if i:
            out.append(np.ones((gap, *b.shape[1:]), np.float32))
        out.append(b)
    return out
