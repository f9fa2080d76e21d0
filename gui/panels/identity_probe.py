"""The identity risk: does the model reconstruct what is not a digit as well as a digit?

"An overcomplete autoencoder may just copy its input." Off-manifold inputs
(uniform noise, a blank, an inverted and a shifted digit:
:data:`engine.analysis.identity_probe.OFF_MANIFOLD_NAMES`) and their
reconstructions by the shown epoch's model, beside real probe digits; the bars
are each input's mean squared error per pixel next to the real digits'
median, and the dashes the error of a flat grey image (what ignoring the input
costs). :func:`~engine.analysis.identity_probe.identity_ratio` in words: the share
of the noise the model fails to copy — near 0 it copies whatever it is given.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QBoxLayout

from engine.analysis.identity_probe import OFF_MANIFOLD_NAMES, identity_ratio
from engine.tiles import tile, to_display
from gui.panels.code_view import (CodeViewPanel, autoencoder_reason, images_reason,
                                  quiet_plot)
from gui.widgets.caption import caption_label
from gui.widgets.image_pane import ImagePane
from gui.widgets.naming import named

REAL_SHOWN = 3            # real digits beside the off-manifold inputs
OFF, REAL = "#D55E00", "#0072B2"
COPIES = 0.5              # a ratio below this: the model copies most of the noise
SIDE_BY_SIDE = 560        # pixels: narrower (a lesson's column), the bars go below the images


def ratio_words(ratio: float) -> str:
    """What :func:`identity_ratio` says, in a sentence."""
    if not np.isfinite(ratio):
        return "No identity ratio for this epoch."
    share = f"{100 * min(ratio, 9.99):.0f}%"
    if ratio < COPIES:
        return (f"It fails to copy only {share} of the noise (its error on the noise over "
                "a flat grey image's): the model copies its input, whatever it is — the "
                "identity risk.")
    return (f"It fails to copy {share} of the noise (its error on the noise over a flat "
            "grey image's): the model reconstructs what looks like its data, not any "
            "input.")


class IdentityProbePanel(CodeViewPanel):
    """Off-manifold inputs, their reconstructions and errors, beside real digits'."""

    view_name = "identity_probe"
    object_name = "identityProbe"
    title = "Identity probe"
    needs = ("identity_error", "identity_flat_error", "probe_error", "identity_inputs",
             "identity_recon")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.pane = named(ImagePane("inputs (top) and their reconstructions (bottom)"),
                          "identityImages", "Off-manifold inputs and reconstructions")
        self.pane.setMinimumSize(260, 90)
        self.bars_widget = named(pg.PlotWidget(), "identityErrorPlot",
                                 "Reconstruction error of each input")
        plot = self.bars_widget.getPlotItem()
        plot.setLabel("left", "MSE per pixel")
        plot.showGrid(y=True, alpha=0.2)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        quiet_plot(plot)
        self.bars: pg.BarGraphItem | None = None
        self.flat_marks = pg.ScatterPlotItem(symbol="_", size=26, pen=pg.mkPen("#303030",
                                                                              width=2))
        self.flat_marks.setZValue(5)
        plot.addItem(self.flat_marks)   # (said in the caption: a legend covered the bars)
        self.caption = caption_label("", "identityCaption", "Identity probe caption", wrap=True)
        # Side by side when there is room; in a narrow column (a lesson's) the 11 images
        # would shrink to specks and the bar labels overlap, so the bars go below.
        self.row = QBoxLayout(QBoxLayout.LeftToRight)
        self.row.addWidget(self.pane, 3)
        self.row.addWidget(self.bars_widget, 2)
        self.body_layout.addLayout(self.row, 1)
        self.body_layout.addWidget(self.caption)
        self.ratio: float | None = None
        self.errors: np.ndarray | None = None

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        narrow = event.size().width() < SIDE_BY_SIDE
        self.row.setDirection(QBoxLayout.TopToBottom if narrow else QBoxLayout.LeftToRight)
        # Below the images the bars are short: a long axis title would be cut off.
        self.bars_widget.getPlotItem().setLabel("left", "MSE" if narrow else "MSE per pixel")
        super().resizeEvent(event)

    def why_not(self, run) -> str:
        return (autoencoder_reason(run, "The identity probe")
                or images_reason(run, "The identity probe"))

    def draw(self, run, epoch, snapshot) -> None:
        a, im = snapshot.arrays, snapshot.images
        k = len(OFF_MANIFOLD_NAMES)
        inputs, recon = im["identity_inputs"][:k], im["identity_recon"][:k]
        real = run.data.probe_images[:REAL_SHOWN]
        real_recon = im["probe_recon"][:REAL_SHOWN] if "probe_recon" in im else real * 0
        # One mosaic: the off-manifold inputs, a gap, real digits; reconstructions below.
        blank = np.ones_like(inputs[:1])
        top = np.concatenate([inputs, blank, real])
        bottom = np.concatenate([recon, blank, real_recon])
        cols = len(top)
        self.pane.set_image(tile(to_display(np.concatenate([top, bottom])), cols, pad=2))
        self.errors = np.asarray(a["identity_error"], np.float64)
        probe = np.asarray(a["probe_error"], np.float64)
        self.ratio = float(identity_ratio(a))
        self._draw_bars(self.errors, float(np.median(probe)),
                        np.asarray(a["identity_flat_error"], np.float64))
        self.caption.setText(f"epoch {epoch}: {ratio_words(self.ratio)} Bars: the error of "
                             f"each input ({', '.join(OFF_MANIFOLD_NAMES)}) and the digits' "
                             "median (real), as mean squared error per pixel; dashes: a flat "
                             "grey image's.")

    def _draw_bars(self, errors: np.ndarray, real: float, flat: np.ndarray) -> None:
        plot = self.bars_widget.getPlotItem()
        if self.bars is not None:
            plot.removeItem(self.bars)
        self.flat_marks.setData(np.arange(len(flat)), flat)
        heights = np.append(errors, real)
        brushes = [pg.mkBrush(OFF)] * len(errors) + [pg.mkBrush(REAL)]
        self.bars = pg.BarGraphItem(x=np.arange(len(heights)), height=heights, width=0.75,
                                    brushes=brushes, pen=None)
        plot.addItem(self.bars)
        names = [short_name(n) for n in OFF_MANIFOLD_NAMES[:len(errors)]] + ["real"]
        plot.getAxis("bottom").setTicks([list(enumerate(names))])
        plot.setXRange(-0.6, len(heights) - 0.4, padding=0)

    def reset_plots(self) -> None:
        self.pane.set_image(None)
        self.flat_marks.clear()
        if self.bars is not None:
            self.bars_widget.getPlotItem().removeItem(self.bars)
            self.bars = None
        self.ratio = self.errors = None


def short_name(name: str) -> str:
    """An axis label for an off-manifold input (``noise 1`` -> ``n1``, ``inverted`` -> ``inv``):
    short, so eight labels fit under the bars of a narrow panel."""
    words = name.replace("_", " ").split()
    if words and words[0].startswith("noise"):
        return "n" + (words[-1] if len(words) > 1 and words[-1].isdigit() else "")
    return SHORT_NAMES.get(name, words[0][:5] if words else "?")


SHORT_NAMES = {"inverted": "inv", "shifted": "shift", "blank": "blank"}
