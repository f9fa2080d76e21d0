"""Interpolation: the decoded path between two codes, and the path on the latent map.

Pick two probe images (the spin boxes) or click two places on the map (A,
then B): the view decodes the codes on the path between them — a straight
line, or for a Gaussian prior the spherical path (slerp), which keeps the
codes at the norm where the prior has its mass
(:mod:`engine.analysis.traversal`). The strip shows A's image, the path and
B's image; the small map shows the validation codes (2-D, or their first two
principal components), the path and its ends, and :attr:`path_changed`
sends the path to the Training tab's map, which draws it as a line too.
Decoding uses the epoch's CPU copy of the model, live and in replay.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QSpinBox

from engine.analysis.traversal import INTERPOLATION_STEPS, interpolation_path
from engine.tiles import tile, to_display
from gui.panels.latent_projection import LatentProjection, dims_projection, pca_projection
from gui.panels.code_view import CodeViewPanel, epoch_words, quiet_plot
from gui.panels.measure_reasons import NO_CODES, decoding_reason
from gui.widgets.caption import caption_label
from gui.widgets.image_pane import ImagePane
from gui.widgets.naming import named

PATH_COLOUR = "#00b4f0"


class LatentInterpolationPanel(CodeViewPanel):
    """Two codes, the path between them decoded, and the path on a map (see the module doc).

    Attributes
    ----------
    ends : the two end codes (D,) each, or None before an epoch is shown.
    path : (S, D) the codes decoded now; ``images`` (S, C, H, W) their decoded images.
    """

    view_name = "latent_interpolation"
    object_name = "latentInterpolation"
    title = "Interpolation"
    path_changed = Signal(object)          # (S, D) codes, or None

    def __init__(self, parent=None):
        super().__init__(parent)
        self.a_box = named(QSpinBox(), "interpolationStart", "The first probe image")
        self.a_box.setPrefix("A: probe ")
        self.b_box = named(QSpinBox(), "interpolationEnd", "The second probe image")
        self.b_box.setPrefix("B: probe ")
        self.how_box = named(QComboBox(), "interpolationPath", "Linear or spherical path")
        self.how_box.addItem("linear", "linear")
        self.how_box.addItem("spherical (slerp)", "spherical")
        controls = QHBoxLayout()
        for w in (self.a_box, self.b_box, self.how_box):
            controls.addWidget(w)
        controls.addStretch(1)
        self.strip = named(ImagePane(), "interpolationStrip",
                           "A, the decoded path, and B")
        self.strip.setMinimumHeight(70)
        self.map_widget = named(pg.PlotWidget(), "interpolationMap",
                                "The validation codes and the path; click to place A, then B")
        mp = self.map_widget.getPlotItem()
        quiet_plot(mp)
        self.points = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(150, 150, 150, 120))
        self.path_item = mp.plot(pen=pg.mkPen(PATH_COLOUR, width=2.5), symbol="o",
                                 symbolSize=5, symbolBrush=PATH_COLOUR, symbolPen=None)
        self.end_items = pg.ScatterPlotItem(size=14, pen=pg.mkPen("k", width=1.2))
        self.end_labels = [pg.TextItem(t, color="k", anchor=(0, 1)) for t in "AB"]
        mp.addItem(self.points)
        mp.addItem(self.end_items)
        for label in self.end_labels:
            mp.addItem(label)
        self.caption = caption_label("", "interpolationCaption", "Interpolation caption",
                                     wrap=True)
        self.body_layout.addLayout(controls)
        self.body_layout.addWidget(self.strip, 2)
        self.body_layout.addWidget(self.map_widget, 3)
        self.body_layout.addWidget(self.caption)
        self.projection: LatentProjection | None = None
        self.ends: list[np.ndarray] | None = None
        self.end_names = ["", ""]
        self.clicked: dict[int, np.ndarray] = {}     # end -> a code placed by a click
        self._next_click = 0
        self.path: np.ndarray | None = None
        self.images: np.ndarray | None = None
        for box, end in ((self.a_box, 0), (self.b_box, 1)):
            box.valueChanged.connect(lambda _v, e=end: self._use_probe(e))
        self.how_box.currentIndexChanged.connect(self._redraw)
        mp.scene().sigMouseClicked.connect(self._on_map_clicked)

    # -- the view interface -------------------------------------------------------------
    def why_not(self, run) -> str:
        return decoding_reason(run, "Interpolation")

    def prepare(self, run) -> None:
        n = len(run.data.probe_images)
        for box, value in ((self.a_box, 0), (self.b_box, min(1, n - 1))):
            box.blockSignals(True)
            box.setRange(0, max(0, n - 1))
            box.setValue(value)
            box.blockSignals(False)
        self.clicked = {}
        self._next_click = 0

    def draw(self, run, epoch, snapshot) -> None:
        a = snapshot.arrays
        if "probe_latent_mean" not in a or "map_latents" not in a:
            self._say(NO_CODES.format(view="the interpolation"))
            return
        gaussian = "probe_latent_logvar" in a
        self.how_box.model().item(1).setEnabled(gaussian)
        if not gaussian and self.how_box.currentIndex() == 1:
            self.how_box.setCurrentIndex(0)             # redraws through the signal
            return
        codes = np.asarray(a["map_latents"], np.float64)
        d = codes.shape[1]
        hold = codes.mean(0)
        self.projection = (dims_projection(d, 0, 1, hold) if d == 2 else
                           pca_projection(codes, hold) if d > 2 else None)
        probes = np.asarray(a["probe_latent_mean"], np.float64)
        self.ends, self.end_names = [], []
        for end, box in enumerate((self.a_box, self.b_box)):
            if end in self.clicked:
                self.ends.append(self.clicked[end])
                self.end_names.append("a point of the map")
            else:
                self.ends.append(probes[box.value()])
                self.end_names.append(f"probe image {box.value()}")
        how = self.how_box.currentData() or "linear"
        self.path = interpolation_path(self.ends[0], self.ends[1], how, INTERPOLATION_STEPS)
        decoder = run.decoder(epoch)
        if decoder is None:
            self._say("This epoch's decoder weights cannot be read, so nothing is decoded.")
            return
        self.images = decoder.decode(self.path)
        originals = [run.data.probe_images[box.value()][None] if end not in self.clicked
                     else self.images[[0 if end == 0 else -1]]
                     for end, box in enumerate((self.a_box, self.b_box))]
        strip = np.concatenate([originals[0], self.images, originals[1]])
        self.strip.set_image(tile(to_display(strip), len(strip), pad=2))
        self._draw_map(codes)
        self.path_changed.emit(self.path)
        norms = np.linalg.norm(self.path, axis=1)
        self.caption.setText(
            f"{epoch_words(epoch, run.weights_note(epoch))}{self.end_names[0]} → {self.end_names[1]}, {how}, "
            f"{len(self.path)} codes (first and last images: the originals, or the decoded "
            f"ends of clicked points). |z| along the path {norms.min():.2f} to "
            f"{norms.max():.2f}" + (" — the prior's mass lies near |z| = √D = "
                                    f"{np.sqrt(d):.2f}." if gaussian else ".")
            + " Click the map to place A, then B.")

    def reset_plots(self) -> None:
        self.strip.set_image(None)
        self.points.clear()
        self.path_item.clear()
        self.end_items.clear()
        self.path = self.images = None
        self.path_changed.emit(None)

    # -- helpers ----------------------------------------------------------------------------
    def _draw_map(self, codes: np.ndarray) -> None:
        if self.projection is None:        # a 1-D code: the path is along one axis
            xy = np.stack([codes[:, 0], np.zeros(len(codes))], 1)
            path = np.stack([self.path[:, 0], np.zeros(len(self.path))], 1)
        else:
            xy, path = self.projection.project(codes), self.projection.project(self.path)
        self.points.setData(pos=xy)
        self.path_item.setData(path[:, 0], path[:, 1])
        self.end_items.setData(pos=path[[0, -1]], brush=[pg.mkBrush("#E69F00"),
                                                         pg.mkBrush("#009E73")])
        for label, p in zip(self.end_labels, path[[0, -1]]):
            label.setPos(float(p[0]), float(p[1]))
        names = self.projection.axis_names if self.projection is not None else ("z1", "")
        plot = self.map_widget.getPlotItem()
        plot.setLabel("bottom", names[0])
        plot.setLabel("left", names[1])

    def _use_probe(self, end: int) -> None:
        self.clicked.pop(end, None)
        self._redraw()

    def _on_map_clicked(self, ev) -> None:
        if self.projection is None or self.path is None:
            return
        view = self.map_widget.getPlotItem().vb
        if not view.sceneBoundingRect().contains(ev.scenePos()):
            return
        p = view.mapSceneToView(ev.scenePos())
        self.place(self._next_click, float(p.x()), float(p.y()))

    def place(self, end: int, x: float, y: float) -> None:
        """Set end 0 (A) or 1 (B) to the code at map point (x, y); the next click sets the
        other end."""
        if self.projection is None:
            return
        self.clicked[end] = self.projection.to_latent(np.array([[x, y]]))[0].astype(np.float64)
        self._next_click = 1 - end
        self._redraw()

    def _redraw(self, *_args) -> None:
        if self.run is not None and self.epoch is not None and self.applies:
            self.show_epoch(self.run, self.epoch)
