"""The same probe images reconstructed by each compared run, one row per run.

Runs that reconstruct the same probe images (the same data, split and
seed) share one row of originals above their rows; a run with other probe
images gets its own originals row, and the caption says so.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

import gui.style  # noqa: F401  (row-major images, set when imported)
from engine.tiles import tile, to_display
from gui.widgets.caption import caption_label
from gui.widgets.naming import named
from gui.widgets.titled_image_view import add_titled_image_view

PAD = 1


class CompareReconstructionsPanel(QWidget):
    """Rows: originals, then each run's reconstructions at the epoch it shows."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "compareReconstructionsPanel", "Reconstructions of the compared runs")
        self.graphics = named(pg.GraphicsLayoutWidget(), "compareReconstructionsView",
                              "Probe images and each run's reconstructions")
        self.axis, self.view, self.image_item = add_titled_image_view(self.graphics)
        self.count_spin = named(QSpinBox(), "compareReconCountSpin", "Images per row",
                                "How many probe images each row shows")
        self.count_spin.setRange(4, 32)
        self.count_spin.setValue(16)
        self.count_spin.valueChanged.connect(self._redraw)
        self.caption = caption_label("", "compareReconstructionsCaption",
                                     "Reconstructions caption", wrap=True)
        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(QLabel("Images"))
        top.addWidget(self.count_spin)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.graphics, 1)
        self._rows: list[tuple[str, np.ndarray, np.ndarray | None, int | None]] = []
        self.row_titles: list[str] = []

    def show_rows(self, rows: list[tuple[str, np.ndarray, np.ndarray | None, int | None]],
                  note: str = "") -> None:
        """Each row: (run label, its probe images (P, C, H, W), its reconstructions — or None
        when none is saved yet, or a text saying why the run has none — the epoch shown)."""
        self._rows = rows
        self.caption.setText(note)
        self._redraw()

    def _redraw(self) -> None:
        if not self._rows:
            self.image_item.clear()
            return
        n = self.count_spin.value()
        h = max(r[1].shape[2] for r in self._rows)
        w = max(r[1].shape[3] for r in self._rows)
        colour = any(r[1].shape[1] >= 3 for r in self._rows)
        strips, titles, shown = [], [], None
        for label, probes, recon, epoch in self._rows:
            p = probes[:n]
            if shown is None or shown.shape != p.shape or not np.array_equal(shown, p):
                shown = p
                strips.append(self._strip(p, n, h, w, colour))
                titles.append("original" if len(strips) == 1 and self._shared()
                              else f"{label}: original")
            if recon is None or isinstance(recon, str):   # a string: why there are none
                strips.append(self._strip(np.ones_like(p), n, h, w, colour))
                titles.append(f"{label}: {recon or 'nothing saved yet'}")
            else:
                strips.append(self._strip(recon[:n], n, h, w, colour))
                titles.append(f"{label} · epoch {epoch}")
        gap = np.ones((4, *strips[0].shape[1:]), np.float32)
        parts = []
        for s in strips:
            parts += [s, gap]
        mosaic = np.concatenate(parts[:-1], axis=0)
        self.image_item.setImage(mosaic, levels=(0.0, 1.0))
        step = h + 4
        self.axis.setTicks([[(k * step + h / 2, t) for k, t in enumerate(titles)]])
        # Wide enough for the longest title now: the axis grows by itself only once painted,
        # and a hidden tab is not painted.
        metrics = QFontMetrics(self.axis.style.get("tickFont") or QFont())
        self.axis.setWidth(max(metrics.horizontalAdvance(t) for t in titles) + 14)
        self.row_titles = titles
        self.view.autoRange(padding=0.01)

    def _shared(self) -> bool:
        first = self._rows[0][1]
        return all(r[1].shape == first.shape and np.array_equal(r[1], first)
                   for r in self._rows[1:])

    @staticmethod
    def _strip(images: np.ndarray, n: int, h: int, w: int, colour: bool) -> np.ndarray:
        """One row of ``n`` cells (blank where there are fewer images), (h, n*(w+PAD)-PAD[, 3])."""
        shown = to_display(images)
        if colour and shown.ndim == 3:
            shown = np.repeat(shown[..., None], 3, axis=-1)
        cells = np.ones((n, h, w, *shown.shape[3:]), np.float32)
        cells[:len(shown), :shown.shape[1], :shown.shape[2]] = shown[:n]
        return tile(cells, n, PAD)
