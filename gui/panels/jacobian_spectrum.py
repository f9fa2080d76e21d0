"""Contraction: how strongly the encoder responds to a small change of its input.

"A small change in the input maps to a very close point." Left, the Frobenius
norm ‖∂E[z|x]/∂x‖_F of the encoder's Jacobian at the probe images over the
saved epochs (``jacobian_frobenius``, its median and the range over the probe
images); right, the singular values of that Jacobian at the shown epoch
(``jacobian_singular_values``, log axis): a contractive run presses them down in
all but a few directions — the directions along the data.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout

from gui.panels.code_view import CodeViewPanel, autoencoder_reason, quiet_plot
from gui.widgets.caption import caption_label
from gui.widgets.naming import named

COLOUR = "#E69F00"


def _plot(name: str, title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    widget = named(pg.PlotWidget(), name, title)
    plot = widget.getPlotItem()
    plot.setTitle(title, size="9pt")
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", y_label)
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.hideButtons()
    quiet_plot(plot)
    return widget


class JacobianSpectrumPanel(CodeViewPanel):
    """The Jacobian's Frobenius norm over epochs and its spectrum at the shown epoch."""

    view_name = "jacobian_spectrum"
    object_name = "jacobianSpectrum"
    title = "Encoder Jacobian"
    needs = ("jacobian_singular_values", "jacobian_frobenius")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.norm_widget = _plot("jacobianNormPlot", "‖∂z/∂x‖_F at the probe images",
                                 "epoch", "Frobenius norm")
        self.spectrum_widget = _plot("jacobianSpectrumPlot",
                                     "singular values at the shown epoch", "direction (largest "
                                     "first)", "singular value")
        np_, sp = self.norm_widget.getPlotItem(), self.spectrum_widget.getPlotItem()
        # A log axis drawn by hand (log10 values, ticks at 1, 3, 10, 30, …): pyqtgraph's
        # labels every minor tick within a decade, and they overlapped.
        sp.setLabel("left", "singular value (log scale)")
        self.band = pg.FillBetweenItem(np_.plot(pen=None), np_.plot(pen=None),
                                       brush=pg.mkBrush(230, 159, 0, 50))
        np_.addItem(self.band)
        self.norm_curve = np_.plot(pen=pg.mkPen(COLOUR, width=2), symbol="o", symbolSize=5,
                                   symbolBrush=COLOUR, symbolPen=None)
        self.epoch_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#7a7a7a", style=Qt.DashLine))
        np_.addItem(self.epoch_line, ignoreBounds=True)
        self.each_curve = sp.plot(pen=pg.mkPen(230, 159, 0, 90, width=1))
        self.median_curve = sp.plot(pen=pg.mkPen(COLOUR, width=2.5))
        self.caption = caption_label("", "jacobianCaption", "Jacobian caption", wrap=True)
        plots = QHBoxLayout()
        plots.addWidget(self.norm_widget, 1)
        plots.addWidget(self.spectrum_widget, 1)
        self.body_layout.addLayout(plots, 1)
        self.body_layout.addWidget(self.caption)
        self.norm_epochs: np.ndarray = np.zeros(0)
        self.norm_median: np.ndarray = np.zeros(0)
        self.spectrum: np.ndarray | None = None

    # -- the view interface -------------------------------------------------------------
    def why_not(self, run) -> str:
        return autoencoder_reason(run, "The encoder's Jacobian")

    def draw(self, run, epoch, snapshot) -> None:
        sv = np.asarray(snapshot.arrays["jacobian_singular_values"], np.float64)
        self.spectrum = sv
        self._draw_norms(run, epoch)
        self._draw_spectrum(sv)
        fro = np.median(np.asarray(snapshot.arrays["jacobian_frobenius"], np.float64))
        top = np.median(sv, axis=0)
        big = int((top >= 0.1 * top[0]).sum()) if len(top) and top[0] > 0 else 0
        self.caption.setText(
            f"epoch {epoch}: median ‖J‖_F = {fro:.3g} over {len(sv)} probe images; "
            f"{big} of {sv.shape[1]} directions keep ≥ 10% of the largest singular value "
            f"({top[0]:.3g}) — the rest are contracted.")

    def reset_plots(self) -> None:
        self.norm_curve.clear()
        self.median_curve.clear()
        self.each_curve.clear()
        self.spectrum = None

    # -- drawing ----------------------------------------------------------------------------
    def _draw_norms(self, run, epoch: int) -> None:
        """The norm at every saved epoch (each snapshot read once: the run keeps it)."""
        epochs, norms = run.arrays_over_epochs("jacobian_frobenius")
        norms = [np.asarray(f, np.float64) for f in norms]
        self.norm_epochs = np.array(epochs, float)
        self.norm_median = np.array([np.median(f) for f in norms])
        self.norm_curve.setData(self.norm_epochs, self.norm_median)
        c1, c2 = self.band.curves
        c1.setData(self.norm_epochs, np.array([f.min() for f in norms]))
        c2.setData(self.norm_epochs, np.array([f.max() for f in norms]))
        self.epoch_line.setValue(epoch)

    def _draw_spectrum(self, sv: np.ndarray) -> None:
        plot = self.spectrum_widget.getPlotItem()
        x = np.arange(1, sv.shape[1] + 1)
        floor = 1e-6   # a log axis cannot show zeros
        logs = np.log10(np.maximum(sv, floor))
        # Every probe image's spectrum as one curve, broken between images: one item for
        # all (sixteen items took 20 ms to make at each epoch).
        xs = np.concatenate([np.append(x, np.nan) for _ in logs]).astype(float)
        ys = np.concatenate([np.append(row, np.nan) for row in logs])
        self.each_curve.setData(xs, ys, connect="finite")
        median = np.log10(np.maximum(np.median(sv, axis=0), floor))
        self.median_curve.setData(x, median)
        self.median_curve.setZValue(2)
        plot.getAxis("left").setTicks([log_ticks(float(logs.min()), float(logs.max()))])


def log_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    """Ticks for an axis of log10 values: 1, 3, 10, 30, … from ``lo`` to ``hi``; fewer
    labels (decades only) when the range spans many decades."""
    first, last = int(np.floor(lo)), int(np.ceil(hi))
    steps = (1.0, 3.0) if last - first <= 4 else (1.0,)
    ticks = []
    for k in range(first, last + 1):
        for m in steps:
            v = k + np.log10(m)
            if lo - 0.05 <= v <= hi + 0.05:
                ticks.append((v, f"{m * 10.0 ** k:g}"))
    return ticks or [(lo, f"{10 ** lo:.2g}")]
