"""Sparsity: how the code's activations are spread, and how many units are off per image.

"Some hidden units go to 0: features are present or absent." Left, the
histogram of every code activation h_d(x) over the map's validation images
(``map_latents``, :func:`engine.analysis.sparsity.activation_histogram`);
right, per image the fraction of units that are (near) zero
(:func:`~engine.analysis.sparsity.near_zero_fraction`). A sparse run piles
its activations at 0. "Compare with a session…" overlays another session's
last epoch in grey — the same model at λ = 0 shows what the penalty did.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QPushButton

from engine.analysis.sparsity import NEAR_ZERO, activation_histogram, near_zero_fraction
from engine.errors import StudioError
from engine.session import Session
from gui.panels.code_view import CodeViewPanel, autoencoder_reason, quiet_plot
from gui.widgets.caption import caption_label
from gui.widgets.markup import escaped
from gui.widgets.naming import named

THIS, REFERENCE = "#CC79A7", "#7f7f7f"
FRACTION_BINS = np.linspace(0.0, 1.0, 21)


def _step_plot(title: str, x_label: str, name: str) -> pg.PlotWidget:
    widget = named(pg.PlotWidget(), name, title)
    plot = widget.getPlotItem()
    plot.setTitle(title, size="9pt")
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", "share")
    plot.showGrid(y=True, alpha=0.2)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    quiet_plot(plot)
    return widget


class ActivationHistogramPanel(CodeViewPanel):
    """The code's activation histogram and near-zero fractions, with a reference overlay."""

    view_name = "activation_histogram"
    object_name = "activationHistogram"
    title = "Code activations"
    needs = ("map_latents",)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.values_plot = _step_plot("activations h over the validation images",
                                      "activation", "activationValuesPlot")
        self.zero_plot = _step_plot("units near 0, per image",
                                    escaped(f"share of units with |h| < {NEAR_ZERO:g}"),
                                    "nearZeroPlot")
        self.zero_plot.getPlotItem().setXRange(0, 1, padding=0.02)
        vp, zp = self.values_plot.getPlotItem(), self.zero_plot.getPlotItem()
        self.legend = vp.addLegend(offset=(-4, 4), labelTextSize="8pt",
                                   brush=pg.mkBrush(255, 255, 255, 200))
        self.curves = {
            "this": vp.plot(stepMode="center", pen=pg.mkPen(THIS, width=2),
                            fillLevel=0, brush=pg.mkBrush(204, 121, 167, 60)),
            "reference": vp.plot(stepMode="center", pen=pg.mkPen(REFERENCE, width=2)),
            "this_zero": zp.plot(stepMode="center", pen=pg.mkPen(THIS, width=2),
                                 fillLevel=0, brush=pg.mkBrush(204, 121, 167, 60)),
            "reference_zero": zp.plot(stepMode="center", pen=pg.mkPen(REFERENCE, width=2)),
        }
        self.compare_button = named(QPushButton("Compare with a session…"),
                                    "compareActivationsButton",
                                    "Overlay another session's activations",
                                    "Open a session (e.g. the same model at λ = 0) and draw "
                                    "its last epoch's activations in grey")
        self.forget_button = named(QPushButton("Remove"), "removeReferenceButton",
                                   "Remove the overlaid session")
        self.compare_button.clicked.connect(self.choose_reference)
        self.forget_button.clicked.connect(lambda: self.set_reference(None))
        self.caption = caption_label("", "activationHistogramCaption",
                                     "Code activations caption", wrap=True)
        self.caption.setTextFormat(Qt.PlainText)   # "(|h| < 0.01)", a session's file name
        plots = QHBoxLayout()
        plots.addWidget(self.values_plot, 3)
        plots.addWidget(self.zero_plot, 2)
        controls = QHBoxLayout()
        controls.addWidget(self.compare_button)
        controls.addWidget(self.forget_button)
        controls.addStretch(1)
        self.body_layout.addLayout(controls)
        self.body_layout.addLayout(plots, 1)
        self.body_layout.addWidget(self.caption)
        self.reference: tuple[np.ndarray, str] | None = None
        self.codes: np.ndarray | None = None
        self.histogram: tuple[np.ndarray, np.ndarray] | None = None
        self.fractions: np.ndarray | None = None
        self.forget_button.setEnabled(False)
        self._where = ""

    # -- the view interface -------------------------------------------------------------
    def why_not(self, run) -> str:
        return autoencoder_reason(run, "The activation histogram")

    def draw(self, run, epoch, snapshot) -> None:
        self.codes = np.asarray(snapshot.arrays["map_latents"], np.float64)
        self._redraw(f"epoch {epoch}", run.config)

    def reset_plots(self) -> None:
        for key in ("this", "this_zero"):
            self.curves[key].clear()
        self.codes = self.histogram = self.fractions = None

    # -- the reference ------------------------------------------------------------------
    def set_reference(self, codes: np.ndarray | None, label: str = "reference") -> None:
        """Overlay ``codes`` (M, D) in grey (None removes the overlay)."""
        self.reference = None if codes is None else (np.asarray(codes, np.float64), label)
        self.forget_button.setEnabled(codes is not None)
        if self.codes is not None:
            self._redraw(self._where, self.run.config if self.run else None)
        elif codes is None:
            self.curves["reference"].clear()
            self.curves["reference_zero"].clear()

    def load_reference(self, path: str | Path) -> str:
        """Overlay the last saved epoch of the session at ``path``; returns "" or a problem."""
        try:
            with Session.open(path) as session:
                run = session.run()
                if not run.snapshot_epochs:
                    return f"{Path(path).name} has no saved epoch."
                epoch = run.snapshot_epochs[-1]
                snap = run.snapshot(epoch)
                codes = snap.arrays.get("map_latents")
                if codes is None:
                    return f"{Path(path).name} has no codes (a {run.config.model.family})."
                label = f"{Path(path).stem} ({lambda_words(run.config)}, epoch {epoch})"
                codes = np.array(codes)
        except StudioError as e:
            return str(e)
        self.set_reference(codes, label)
        return ""

    def choose_reference(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Compare with a session", "",
                                              "Autoencoder Studio sessions (*.h5 *.hdf5)")
        if path:
            problem = self.load_reference(path)
            if problem:
                self.caption.setText(problem)

    # -- drawing --------------------------------------------------------------------------
    def _redraw(self, where: str, config) -> None:
        self._where = where
        span = None
        if self.reference is not None:   # one range for both: they compare bar for bar
            both = np.concatenate([self.codes.ravel(), self.reference[0].ravel()])
            span = (float(np.nanmin(both)), float(np.nanmax(both)))
        counts, edges = activation_histogram(self.codes, bins=40, value_range=span)
        self.histogram = (np.asarray(counts), np.asarray(edges))
        sets = [("this", self.codes, f"this run ({lambda_words(config)})" if config
                 else "this run", counts)]
        if self.reference is not None:
            ref, label = self.reference
            sets.append(("reference", ref, label,
                         activation_histogram(ref, bins=40, value_range=span)[0]))
        self.legend.clear()
        words = []
        for key, codes, label, n in sets:
            self.curves[key].setData(edges, n / max(1, n.sum()))
            fractions = near_zero_fraction(codes)
            zero_counts, _ = np.histogram(fractions, FRACTION_BINS)
            self.curves[f"{key}_zero"].setData(FRACTION_BINS,
                                               zero_counts / max(1, len(fractions)))
            self.legend.addItem(self.curves[key], escaped(label))
            words.append(f"{label}: {100 * float(np.mean(fractions)):.0f}% of units near "
                         "zero per image")
            if key == "this":
                self.fractions = fractions
        if self.reference is None:
            self.curves["reference"].clear()
            self.curves["reference_zero"].clear()
        self.caption.setText(f"{where}: " + "; ".join(words) + f" (|h| < {NEAR_ZERO:g}).")


def lambda_words(config) -> str:
    """``λ = 0.001`` (the sparsity weight) for an autoencoder config."""
    return f"λ = {config.objective.sparsity:g}"

