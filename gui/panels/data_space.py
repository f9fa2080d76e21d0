"""Data space: for 2-D point data, the plane itself — real points, the model's points, a map.

GAN Lab's view, for every family: the validation points (grey), their
reconstructions (blue: an autoencoder's, an RBM's one Gibbs step), points
the model generates (orange: a VAE's or a GAN's decoded prior samples, an
RBM's Gibbs chains), and behind them a map the snapshot carries — a GAN
discriminator's D(x) or an RBM's log-density (colours as in
:mod:`engine.export.data_space`). The latent explorer's marker, decoded,
shows here as a red cross; an RBM's live Gibbs chains as red dots.

For an autoencoder the reconstruction field r(x) − x is drawn as arrows on a
grid (``field_recon``, :func:`engine.analysis.recon_field.recon_field`): for a
denoising or contractive autoencoder they point back to the data (Alain &
Bengio 2014: they estimate the score of the data density); for an
overcomplete plain one they vanish (the identity). A 1-D code draws its
learned curve (``code_curve``: the decoder along a line of codes).

The panel has the code views' interface (``set_run(run)``, ``show_epoch(run,
epoch)``, ``clear(why)``, ``save_png``) and follows the run model the same way
(:class:`~gui.run.following.DrawsWhenShown`), so the Code views tab and the lessons
show it too.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget

from engine.analysis.recon_field import recon_field
from engine.data.toy2d import DATA_EXTENT, is_point_data
from engine.events import DatasetInfo, EpochSnapshot
from engine.export.data_space import GENERATED, REAL, RECON, map_rgb
from engine.models import ModelTraits, family_class
from gui.panels.code_view import OLD_SESSION
from gui.run.following import DrawsWhenShown
from gui.widgets.caption import caption_label
from gui.widgets.naming import named

NOT_POINTS = "Data space is drawn for 2-D point data (two moons, rings, spiral, 8 Gaussians)."
NO_MAP = "no map: this family has no discriminator or density to draw"


FIELD, CURVE = "#2b2b2b", "#009E73"
HEAD = 0.3          # an arrow's head, as a share of its length


def _brush(rgb, alpha=200):
    return pg.mkBrush(*rgb, alpha)


def arrow_scale(grid: np.ndarray, arrows: np.ndarray) -> float:
    """The factor the arrows are drawn at: 1, or less so that the longest (90th
    percentile) reach about one grid spacing — full length, they crossed each other."""
    spacing = float(np.ptp(grid[:, 0])) / max(1.0, np.sqrt(len(grid)) - 1)
    longest = float(np.percentile(np.hypot(*np.asarray(arrows).T), 90)) if len(arrows) else 0
    return 1.0 if longest <= 0 or longest <= spacing else spacing / longest


def arrow_segments(starts: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Line segments drawing arrows from ``starts`` (N, 2) along ``vectors`` (N, 2): a
    shaft and two head strokes each, as (6N, 2) points joined in pairs."""
    starts, vectors = np.asarray(starts, np.float64), np.asarray(vectors, np.float64)
    tips = starts + vectors
    back = -HEAD * vectors
    normal = np.stack([-back[:, 1], back[:, 0]], axis=1) * 0.5
    points = np.stack([starts, tips, tips, tips + back + normal, tips, tips + back - normal],
                      axis=1)
    return points.reshape(-1, 2)


class DataSpacePanel(DrawsWhenShown, QWidget):
    """The unit square of a 2-D point set, with what the displayed epoch put in it."""

    view_name = "data_space"
    object_name = "dataSpace"
    title = "Data space"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._init_following()
        named(self, self.object_name, "Data space")
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
        self.field_item = pg.PlotCurveItem(pen=pg.mkPen(FIELD, width=1), connect="pairs")
        self.curve_item = pg.PlotCurveItem(pen=pg.mkPen(CURVE, width=3))
        for z, item in ((3.5, self.field_item), (3.6, self.curve_item)):
            item.setZValue(z)
            self.plot.addItem(item, ignoreBounds=True)
        self.field: tuple[np.ndarray, np.ndarray] | None = None
        self.field_scale = 1.0
        # The legend lives in the plot: the panel's height goes to the plane itself.
        self.legend = self.plot.addLegend(offset=(4, 4), labelTextSize="8pt",
                                          brush=pg.mkBrush(255, 255, 255, 200))
        self._legend_for: tuple | None = None
        self.checks = {}
        controls = QHBoxLayout()
        for key, text, tip in (("map", "Map", "The discriminator's D(x) or the log-density"),
                               ("real", "Real", "Validation points"),
                               ("recon", "Reconstructions", "The real points through the model"),
                               ("generated", "Generated", "Points the model makes by itself"),
                               ("field", "Field r(x)−x", "Arrows from grid points to their "
                                                         "reconstructions (autoencoders)")):
            box = named(QCheckBox(text), f"dataSpace{key.title()}Check", f"Show {text.lower()}",
                        tip)
            box.setChecked(True)
            box.toggled.connect(self._apply_visibility)
            self.checks[key] = box
            controls.addWidget(box)
        controls.addStretch(1)
        self.controls = controls
        self.caption = caption_label(NOT_POINTS, "dataSpaceCaption", "Data space caption",
                                     wrap=True)
        self.caption.setTextFormat(Qt.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.caption)
        self.data: DatasetInfo | None = None
        self.traits = ModelTraits()    # the family's, of the run on display
        self.shown: dict[str, np.ndarray] = {}
        self.run = None
        self.epoch: int | None = None
        self._show_plane(False)

    # -- the view interface (the code views and lessons; the Training tab uses the same) -----
    @property
    def applies(self) -> bool:
        return self.data is not None

    @property
    def showing(self) -> bool:
        return self.data is not None and self.epoch is not None

    def set_run(self, run) -> None:
        """A run on display: on 2-D points the probe points are the real ones until its
        first snapshot; on anything else the panel says why it is empty."""
        self.run, self.epoch = run, None
        if run is None or run.data is None or not is_point_data(run.data.image_shape):
            self.clear(NOT_POINTS)
            return
        self.data, self.traits = run.data, family_class(run.config).traits(run.config)
        self._reset_items()
        self._show_plane(True)
        real = np.asarray(run.data.probe_images, np.float32).reshape(-1, 2)
        self._set_points("real", real)
        self.checks["field"].setEnabled(self.traits.autoencoder_code)
        self.caption.setText("The model's points appear after the first epoch.")

    def show_epoch(self, run, epoch: int) -> None:
        """Show ``epoch`` of ``run``."""
        if run is not self.run:
            self.set_run(run)
        if self.data is None:
            return
        self.epoch = epoch
        self.show_snapshot(run.snapshot(epoch))

    def clear(self, why: str = "") -> None:
        self.data, self.epoch = None, None
        self._reset_items()
        self._show_plane(False)
        self.caption.setText(why or NOT_POINTS)

    def save_png(self, path) -> bool:
        return self.grab().save(str(path), "PNG")

    def _show_plane(self, on: bool) -> None:
        """The plane and its checkboxes only for point data (never empty axes)."""
        self.plot_widget.setVisible(on)
        for box in self.checks.values():
            box.setVisible(on)

    def _reset_items(self) -> None:
        self.map_item.clear()
        for item in self.items.values():
            item.clear()
        self.field_item.setData([], [])
        self.curve_item.setData([], [])
        self.field = None
        self.shown = {}
        self.legend.clear()
        self._legend_for = None

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
        self._draw_field(a)
        self._apply_visibility()
        self._update_legend(a)
        generated = f"generated: {self.traits.sampler}; " if "generated_points" in a else ""
        self.caption.setText(generated + (f"background: {what}" if what else
                                          self.traits.missing.get("data_map", NO_MAP))
                             + self._field_words(a))

    def _draw_field(self, arrays: dict) -> None:
        """The arrows r(x) − x on the grid, and a 1-D code's learned curve."""
        if "field_recon" in arrays:
            grid, arrows = recon_field(arrays)
            self.field = (np.asarray(grid, np.float64), np.asarray(arrows, np.float64))
            self.field_scale = arrow_scale(*self.field)
            seg = arrow_segments(self.field[0], self.field_scale * self.field[1])
            self.field_item.setData(seg[:, 0], seg[:, 1])
        else:
            self.field = None
            self.field_item.setData([], [])
        curve = arrays.get("code_curve")
        if curve is None:
            self.curve_item.setData([], [])
        else:
            curve = np.asarray(curve, np.float64)
            self.curve_item.setData(curve[:, 0], curve[:, 1])

    def _field_words(self, arrays: dict) -> str:
        if not self.traits.autoencoder_code:   # the field r(x) - x is an autoencoder's
            return ""
        if self.field is None:
            return "<br>" + OLD_SESSION.format(view="the reconstruction field",
                                                array="field_recon")
        length = float(np.median(np.hypot(*self.field[1].T)))
        curve = "; green: the learned curve of the 1-D code" if "code_curve" in arrays else ""
        scale = "" if self.field_scale == 1.0 else f", drawn ×{self.field_scale:.2g}"
        return (f"<br>arrows: r(x) − x on a grid{scale} (median length {length:.3f}: near 0 "
                f"the model copies its input){curve}")

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
        self.field_item.setVisible(self.checks["field"].isChecked())

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
