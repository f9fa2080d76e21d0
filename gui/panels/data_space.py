"""Data space: for 2-D point data, the plane itself — real points, the model's points, a map.

GAN Lab's view, for every family: the validation points (grey), their
reconstructions (blue: an autoencoder's, an RBM's one Gibbs step), points
the model generates (orange: a VAE's or a GAN's decoded prior samples, an
RBM's Gibbs chains), and behind them a map the snapshot carries — a GAN
discriminator's D(x) or an RBM's log-density (colours as in
:mod:`engine.session.data_space`). The latent explorer's marker, decoded,
shows here as a red cross; an RBM's live Gibbs chains as red dots.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget

from engine.data.toy2d import DATA_EXTENT
from engine.events import DatasetInfo, EpochSnapshot
from engine.session.data_space import GENERATED, REAL, RECON, map_rgb
from gui.widgets.caption import caption_label
from gui.widgets.naming import named

NOT_POINTS = "Data space is drawn for 2-D point data (two moons, rings, spiral, 8 Gaussians)."
NO_MAP = {"autoencoder": "no map: a VAE's p(x) has no closed form (its ELBO only bounds it), "
                         "and a deterministic autoencoder defines none"}


def _brush(rgb, alpha=200):
    return pg.mkBrush(*rgb, alpha)


class DataSpacePanel(QWidget):
    """The unit square of a 2-D point set, with what the displayed epoch put in it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "dataSpacePanel", "Data space")
        self.plot_widget = named(pg.PlotWidget(), "dataSpacePlot",
                                 "Data space: real and model points, and the model's map")
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot.setAspectLocked(True)
        self.plot.hideButtons()
        lo, hi = DATA_EXTENT
        self.plot.setRange(xRange=(lo, hi), yRange=(lo, hi), padding=0.02)
        self.map_item = pg.ImageItem()
        self.map_item.setZValue(-20)
        self.plot.addItem(self.map_item)
        self.items = {
            "real": pg.ScatterPlotItem(size=4, pen=None, brush=_brush(REAL, 150)),
            "recon": pg.ScatterPlotItem(size=4, pen=None, brush=_brush(RECON)),
            "generated": pg.ScatterPlotItem(size=4, pen=None, brush=_brush(GENERATED)),
            "chains": pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(208, 0, 0, 170)),
            "marker": pg.ScatterPlotItem(size=16, symbol="+", pen=pg.mkPen("#d00000", width=3),
                                         brush=None),
        }
        for z, item in enumerate(self.items.values()):
            item.setZValue(z)
            self.plot.addItem(item)
        # The legend lives in the plot: the panel's height goes to the plane itself.
        self.legend = self.plot.addLegend(offset=(4, 4), labelTextSize="8pt",
                                          brush=pg.mkBrush(255, 255, 255, 200))
        self._legend_for: tuple | None = None
        self.checks = {}
        controls = QHBoxLayout()
        for key, text, tip in (("map", "Map", "The discriminator's D(x) or the log-density"),
                               ("real", "Real", "Validation points"),
                               ("recon", "Reconstructions", "The real points through the model"),
                               ("generated", "Generated", "Points the model makes by itself")):
            box = named(QCheckBox(text), f"dataSpace{key.title()}Check", f"Show {text.lower()}",
                        tip)
            box.setChecked(True)
            box.toggled.connect(self._apply_visibility)
            self.checks[key] = box
            controls.addWidget(box)
        controls.addStretch(1)
        self.caption = caption_label(NOT_POINTS, "dataSpaceCaption", "Data space caption",
                                     wrap=True)
        self.caption.setTextFormat(Qt.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.caption)
        self.data: DatasetInfo | None = None
        self.family = ""
        self.shown: dict[str, np.ndarray] = {}

    def set_run(self, data: DatasetInfo, family: str) -> None:
        """A new run on 2-D points: the probe points are the real ones until a snapshot."""
        self.data, self.family = data, family
        self.clear()
        real = np.asarray(data.probe_images, np.float32).reshape(-1, 2)
        self._set_points("real", real)
        self.caption.setText("The model's points appear after the first epoch.")

    def clear(self) -> None:
        self.map_item.clear()
        for item in self.items.values():
            item.clear()
        self.shown = {}
        self.legend.clear()
        self._legend_for = None
        self.caption.setText(NOT_POINTS)

    def show_snapshot(self, snapshot: EpochSnapshot) -> None:
        """The points and map of one epoch."""
        a = snapshot.arrays
        rgb, what = map_rgb(a)
        lo, hi = DATA_EXTENT
        if rgb is None:
            self.map_item.clear()
        else:
            self.map_item.setImage(rgb, levels=(0, 255))   # row 0 is y = 0: the plot's bottom
            self.map_item.setRect(lo, lo, hi - lo, hi - lo)
        self.shown = {}
        for key, name in (("real", "real_points"), ("recon", "recon_points"),
                          ("generated", "generated_points")):
            if name in a:
                self._set_points(key, a[name])
            elif key != "real":
                self.items[key].clear()
        self.items["chains"].clear()
        self._apply_visibility()
        self._update_legend(a)
        how = {"rbm": "Gibbs chains", "gan": "g(z), z ~ N(0, I)"}.get(self.family,
                                                                    "decoded z ~ N(0, I)")
        generated = f"generated: {how}; " if "generated_points" in a else ""
        self.caption.setText(generated + (f"background: {what}" if what else NO_MAP.get(
            self.family, "no map: this family has no discriminator or density to draw")))

    def _set_points(self, key: str, points: np.ndarray) -> None:
        pts = np.asarray(points, np.float64).reshape(-1, 2)
        self.shown[key] = pts
        self.items[key].setData(pos=pts)

    def show_marker(self, point: np.ndarray | None) -> None:
        """The latent explorer's marker decoded to data space (x1, x2), or None."""
        if point is None:
            self.items["marker"].clear()
        else:
            self.items["marker"].setData(pos=np.asarray(point, np.float64).reshape(1, 2))

    def show_chains(self, points: np.ndarray | None) -> None:
        """Live Gibbs chains (N, 2), or None."""
        if points is None:
            self.items["chains"].clear()
        else:
            self.items["chains"].setData(pos=np.asarray(points, np.float64).reshape(-1, 2))

    def _apply_visibility(self, *_args) -> None:
        self.map_item.setVisible(self.checks["map"].isChecked())
        for key in ("real", "recon", "generated"):
            self.items[key].setVisible(self.checks[key].isChecked())

    def _update_legend(self, arrays: dict) -> None:
        """Name the point sets this snapshot has, in the plot's corner (short: it covers
        the plane; the caption says more)."""
        entries = [("real", "real")]
        if "recon_points" in arrays:
            entries.append(("recon", "reconstructed"))
        if "generated_points" in arrays:
            entries.append(("generated", "generated"))
        key = tuple(entries)
        if key == self._legend_for:
            return
        self._legend_for = key
        self.legend.clear()
        for item, text in entries:
            self.legend.addItem(self.items[item], text)
