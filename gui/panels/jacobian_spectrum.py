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

from gui.panels.code_view import (CodeViewPanel, autoencoder_reason, images_reason,
                                  quiet_plot)
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
        sp.setLogMode(y=True)
        self.band = pg.FillBetweenItem(np_.plot(pen=None), np_.plot(pen=None),
                                       brush=pg.mkBrush(230, 159, 0, 50))
        np_.addItem(self.band)
        self.norm_curve = np_.plot(pen=pg.mkPen(COLOUR, width=2), symbol="o", symbolSize=5,
                                   symbolBrush=COLOUR, symbolPen=None)
        self.epoch_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#7a7a7a", style=Qt.DashLine))
        np_.addItem(self.epoch_line, ignoreBounds=True)
        self.each_curves: list[pg.PlotDataItem] = []
        self.median_curve = sp.plot(pen=pg.mkPen(COLOUR, width=2.5))
        self.caption = caption_label("", "jacobianCaption", "Jacobian caption", wrap=True)
        plots = QHBoxLayout()
        plots.addWidget(self.norm_widget, 1)
        plots.addWidget(self.spectrum_widget, 1)
        self.body_layout.addLayout(plots, 1)
        self.body_layout.addWidget(self.caption)
        self._norms: dict[tuple, np.ndarray] = {}    # (run id, epoch, step) -> (J,)
        self.norm_epochs: np.ndarray = np.zeros(0)
        self.norm_median: np.ndarray = np.zeros(0)
        self.spectrum: np.ndarray | None = None

    # -- the view interface -------------------------------------------------------------
    def why_not(self, run) -> str:
        return (autoencoder_reason(run, "The encoder's Jacobian")
                or images_reason(run, "The Jacobian spectrum"))

    def prepare(self, run) -> None:
        self._norms = {}

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
        for c in self.each_curves:
            self.spectrum_widget.getPlotItem().removeItem(c)
        self.each_curves = []
        self.spectrum = None

    # -- drawing ----------------------------------------------------------------------------
    def _draw_norms(self, run, epoch: int) -> None:
        """The norm at every saved epoch (each snapshot read once, then kept)."""
        epochs, med, lo, hi = [], [], [], []
        for e in run.epochs:
            try:
                snap = run.snapshot(e)
            except Exception:  # noqa: BLE001 - an unreadable epoch: leave it out
                continue
            key = (run.run_id, e, snap.step)
            if key not in self._norms:
                fro = snap.arrays.get("jacobian_frobenius")
                if fro is None:
                    continue
                self._norms[key] = np.asarray(fro, np.float64)
            f = self._norms[key]
            epochs.append(e)
            med.append(np.median(f))
            lo.append(f.min())
            hi.append(f.max())
        self.norm_epochs, self.norm_median = np.array(epochs, float), np.array(med)
        self.norm_curve.setData(self.norm_epochs, self.norm_median)
        c1, c2 = self.band.curves
        c1.setData(self.norm_epochs, np.array(lo))
        c2.setData(self.norm_epochs, np.array(hi))
        self.epoch_line.setValue(epoch)

    def _draw_spectrum(self, sv: np.ndarray) -> None:
        plot = self.spectrum_widget.getPlotItem()
        for c in self.each_curves:
            plot.removeItem(c)
        x = np.arange(1, sv.shape[1] + 1)
        floor = 1e-6   # a log axis cannot show zeros
        faint = pg.mkPen(230, 159, 0, 70, width=1)
        self.each_curves = [plot.plot(x, np.maximum(row, floor), pen=faint) for row in sv]
        self.median_curve.setData(x, np.maximum(np.median(sv, axis=0), floor))
        self.median_curve.setZValue(2)
