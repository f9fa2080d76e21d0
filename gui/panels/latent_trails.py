"""The latent map over time: where a few probe images' codes travel, epoch by epoch.

The codes of the first probe images (``probe_latent_mean`` of every saved
epoch, :func:`engine.analysis.trails.latent_trails`) drawn as trails on one
fixed map: the code itself for a 2-D latent, the plane of the last epoch's first
two principal components for more (:func:`gui.panels.latent_projection.pca_projection`,
fixed so that what moves is the codes), and for a 1-D code the code against the
epoch. The last epoch's map codes lie faint behind; the shown epoch is marked.
"Write GIF…" saves the animated map and manifold over all saved epochs
(:func:`engine.export.latent_gif.export_gif`, as ``export --gif`` does).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QPushButton

from engine.analysis.trails import latent_trails
from engine.errors import StudioError
from engine.session import Session
from engine.export.latent_gif import export_gif
from gui.panels.latent_projection import LatentProjection, dims_projection, pca_projection
from gui.panels.code_view import CodeViewPanel, autoencoder_reason, quiet_plot
from gui.style import LABEL_COLOURS
from gui.widgets.caption import caption_label
from gui.widgets.naming import named

TRAILS = 8


class LatentTrailsPanel(CodeViewPanel):
    """Trails of a few probe codes across the saved epochs, and the GIF button."""

    view_name = "latent_trails"
    object_name = "latentTrails"
    title = "Latent map over time"
    needs = ("probe_latent_mean",)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.map_widget = named(pg.PlotWidget(), "latentTrailsPlot",
                                "Trails of probe codes across epochs")
        self.plot = self.map_widget.getPlotItem()
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.hideButtons()
        quiet_plot(self.plot, mouse=True)
        self.plot.setAspectLocked(True)
        self.background = pg.ScatterPlotItem(size=4, pen=None,
                                             brush=pg.mkBrush(120, 120, 120, 110))
        self.background.setZValue(-10)
        self.plot.addItem(self.background)
        self.lines: list[pg.PlotDataItem] = []
        self.now = pg.ScatterPlotItem(size=12, pen=pg.mkPen("k", width=1.5))
        self.now.setZValue(10)
        self.plot.addItem(self.now)
        self.gif_button = named(QPushButton("Write GIF…"), "writeGifButton",
                                "Write an animated GIF of the map over all saved epochs")
        self.gif_button.clicked.connect(self.choose_gif)
        self.caption = caption_label("", "latentTrailsCaption", "Latent trails caption",
                                     wrap=True)
        controls = QHBoxLayout()
        controls.addStretch(1)
        controls.addWidget(self.gif_button)
        self.body_layout.addLayout(controls)
        self.body_layout.addWidget(self.map_widget, 1)
        self.body_layout.addWidget(self.caption)
        self.trails: np.ndarray | None = None      # (E, n, D)
        self.points: np.ndarray | None = None      # (E, n, 2) on the map
        self.trail_epochs: list[int] = []
        self.projection: LatentProjection | None = None

    def why_not(self, run) -> str:
        return autoencoder_reason(run, "The latent map over time")

    def draw(self, run, epoch, snapshot) -> None:
        epochs, codes = run.arrays_over_epochs("probe_latent_mean")
        codes = [np.asarray(c, np.float64) for c in codes]
        last_map = run.snapshot(epochs[-1]).arrays.get("map_latents") if epochs else None
        self.trail_epochs = epochs
        self.trails = np.asarray(latent_trails(codes, n=TRAILS), np.float64)
        d = self.trails.shape[2]
        if d == 1:
            self.projection = None
            pts = np.stack([self.trails[..., 0],
                            np.broadcast_to(np.array(epochs, float)[:, None],
                                            self.trails.shape[:2])], axis=-1)
            self.plot.setLabel("bottom", "z1")
            self.plot.setLabel("left", "epoch")
            self.background.clear()
        else:
            base = last_map if last_map is not None else codes[-1]
            self.projection = (dims_projection(2, 0, 1, np.zeros(2)) if d == 2 else
                               pca_projection(base, np.asarray(base).mean(0)))
            pts = self.projection.project(self.trails.reshape(-1, d)).reshape(
                *self.trails.shape[:2], 2)
            names = self.projection.axis_names
            self.plot.setLabel("bottom", names[0] + ("" if d == 2 else " (last epoch)"))
            self.plot.setLabel("left", names[1])
            self.background.setData(pos=self.projection.project(base))
        self.points = pts
        self._draw_lines(run, epochs.index(epoch) if epoch in epochs else len(epochs) - 1)
        what = ("the code itself" if d == 2 else "against the epoch" if d == 1 else
                "the PCA plane of the last epoch")
        self.caption.setText(f"epoch {epoch}: the codes of the first {self.trails.shape[1]} "
                             f"probe images over {len(epochs)} saved epochs ({what}); ● marks "
                             "the shown epoch, grey dots the last epoch's map.")

    def _draw_lines(self, run, shown: int) -> None:
        n = self.points.shape[1]
        while len(self.lines) < n:     # the items are kept between epochs: making them cost
            self.lines.append(self.plot.plot(symbol="o", symbolSize=4, symbolPen=None))
        for line in self.lines[n:]:
            line.setData([], [])
        labels = run.data.probe_labels
        brushes = []
        for i in range(n):
            colour = LABEL_COLOURS[int(labels[i]) % 10 if labels is not None else i % 10]
            self.lines[i].setData(self.points[:, i, 0], self.points[:, i, 1],
                                  pen=pg.mkPen(colour, width=2), symbolBrush=colour)
            brushes.append(pg.mkBrush(colour))
        self.now.setData(pos=self.points[shown], brush=brushes)

    def reset_plots(self) -> None:
        for line in self.lines:
            line.setData([], [])
        self.now.clear()
        self.background.clear()
        self.trails = self.points = None

    # -- the GIF ----------------------------------------------------------------------------
    def write_gif(self, path: str | Path) -> str:
        """Write the animated map of the run on display to ``path``; "" or the problem."""
        run = self.run
        if run is None:
            return "No run on display."
        try:
            if run.stored is not None:
                export_gif(run.stored, path, force=True)
            else:
                # a live run's session file is the followed model's (a stored run knows its own)
                path = self.run_model.session_path if self.run_model is not None else None
                if path is None or not Path(path).exists():
                    return "This run has no session file yet."
                with Session.open(path) as session:
                    export_gif(session.run(run.run_id), path, force=True)
        except (StudioError, OSError, KeyError) as e:
            return f"Cannot write the GIF: {e}"
        return ""

    def choose_gif(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Write animated GIF", "latent-map.gif",
                                              "GIF images (*.gif)")
        if path:
            problem = self.write_gif(path)
            self.caption.setText(problem or f"Written: {path}")
