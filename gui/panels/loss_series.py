"""The loss plot's series and legend: the curves of each term, and what the legend lists.

:class:`TermCurves` holds one objective term's data (raw values, their
moving average, validation points) and the three plot items drawing them.
:class:`LossLegend`, a mixin of :class:`~gui.panels.loss_curves.LossCurvesPanel`,
keeps the legend beside the plot: one entry per drawn term, weighted terms
named as they enter the total (``0.001·sparsity``), ``total`` drawn once when
it is the same curve as the one term, and a click on an entry hiding its curve.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from gui.run.series import EmaState, SeriesBuffer
from gui.style import term_colour


class TermCurves:
    """The raw, smoothed and validation curves of one term, and their data."""

    def __init__(self, plot: pg.PlotItem, name: str, index: int, weight: float):
        colour = term_colour(name, index)
        self.name = name
        self.raw = SeriesBuffer()
        self.smooth = EmaState(weight)
        self.val = SeriesBuffer(64)
        self.val_drawn = -1        # validation points last given to the plot
        faint = pg.mkColor(colour)
        faint.setAlpha(70)
        self.colour = colour
        self.raw_item = plot.plot(pen=pg.mkPen(faint, width=1))
        self.smooth_item = plot.plot(pen=pg.mkPen(colour, width=2), antialias=True)
        self.smoothed_style: bool | None = None
        # Above the training lines, with a white rim: on a curve that runs close to the
        # training one (a denoising run) small filled dots disappeared into it.
        self.val_item = plot.plot(pen=pg.mkPen(colour, width=2, style=Qt.DashLine),
                                  symbol="o", symbolSize=7, symbolBrush=colour,
                                  symbolPen=pg.mkPen("w", width=1))
        self.val_item.setZValue(3)
        for item in (self.raw_item, self.smooth_item):
            # Two samples a pixel (peak keeps each pixel's min and max) instead of
            # pyqtgraph's default five: the same picture, a path a third as long.
            item.opts["autoDownsampleFactor"] = 2.0
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)

    def style_main_line(self, smoothed: bool) -> None:
        """Style the main line for smoothed or raw values.

        Raw values keep their spikes (peak downsampling) in a thin line; a
        smoothed curve is averaged (mean) and drawn thick. A thick antialiased
        line through peak-downsampled noise is a dense zig-zag that took
        ~100 ms to paint at a million points; these styles paint in ~6 ms.
        """
        if smoothed == self.smoothed_style:
            return
        self.smoothed_style = smoothed
        self.smooth_item.setDownsampling(auto=True, method="mean" if smoothed else "peak")
        self.smooth_item.setPen(pg.mkPen(self.colour, width=2 if smoothed else 1))

    def remove(self, plot: pg.PlotItem) -> None:
        for item in (self.raw_item, self.smooth_item, self.val_item):
            plot.removeItem(item)

    def has_positive(self) -> bool:
        return bool(self.raw.n and np.any(self.raw.y > 0)) or bool(
            self.val.n and np.any(self.val.y > 0))


class LossLegend:
    """The loss plot in words: its legend, the terms it lists, and the readout of every
    term at the step under the mouse (a mixin of the panel).

    Attributes
    ----------
    legend : the pyqtgraph legend beside the plot; ``validation_sample`` its key entry.
    user_hidden : terms whose curves the user hid with a click on the legend.
    """

    def _build_legend(self) -> None:
        # The legend sits beside the plot, not on it: the curves fill the whole plot.
        self.legend = pg.LegendItem(labelTextSize="8pt", verSpacing=-6)
        side = self.plot_widget.addLayout(row=0, col=1)
        side.addItem(self.legend, row=0, col=0)
        side.addLabel("", row=1, col=0)
        side.layout.setRowStretchFactor(1, 1)   # keeps the entries together at the top
        self.plot_widget.ci.layout.setColumnStretchFactor(0, 1)
        self.plot_widget.ci.layout.setColumnStretchFactor(1, 0)
        self.legend.sigSampleClicked.connect(self._on_legend_clicked)
        self.validation_sample = pg.PlotDataItem(
            pen=pg.mkPen("#555555", width=2, style=Qt.DashLine), symbol="o", symbolSize=7,
            symbolBrush="#555555", symbolPen=pg.mkPen("w", width=1))
        self.user_hidden: set[str] = set()

    def label_of(self, name: str) -> str:
        """A term's name in the legend: ``0.001·sparsity`` for a weighted one."""
        w = self.term_weights.get(name, 1.0)
        return name if w == 1.0 else f"{w:g}·{name}"

    def _guess_same_as_total(self) -> None:
        """With one term besides ``total`` the two are the same curve (the objective adds
        nothing to it): draw it once. The panel's ``append_rows`` checks every value it
        gets."""
        others = [n for n in self.curves if n != "total"]
        both_empty = all(self.curves[n].raw.n == 0 for n in self.curves)
        self.same_as_total = (others[0] if "total" in self.curves and len(others) == 1
                              and both_empty else None)

    def _update_legend(self, off_axis: list[str]) -> None:
        """One entry per drawn term, in order; a term the log axis cannot show is left out
        (its crossed-out icon read as "click to show", which it cannot); ``total`` says
        which term it is when the two are one curve."""
        entries = [n for n in self.curves if n not in off_axis and n != self.same_as_total]
        if entries == self._legend_entries:
            return
        self._legend_entries = entries
        self.legend.clear()
        for name in entries:
            label = (f"total = {self.same_as_total}" if name == "total" and self.same_as_total
                     else self.label_of(name))
            self.legend.addItem(self.curves[name].smooth_item, label)
        if entries:
            self.legend.addItem(self.validation_sample, "validation")

    def _on_legend_clicked(self, item) -> None:
        """A click on a legend entry hid or showed its curve: apply it to the term's curves."""
        for name, c in self.curves.items():
            if item is c.smooth_item:
                self.user_hidden.symmetric_difference_update({name})
        if item is self.validation_sample:
            item.setVisible(True)  # the sample is only a key
        self.redraw()

    def _on_mouse_moved(self, args) -> None:
        pos = args[0]
        if not self.plot.sceneBoundingRect().contains(pos) or self._steps.n == 0:
            return
        x = self.plot.vb.mapSceneToView(pos).x()
        self.show_readout_at(x)

    def show_readout_at(self, x: float) -> str:
        """Show the terms at the logged step nearest to ``x``; returns the text."""
        steps = self._steps.x
        if len(steps) == 0:
            return ""
        i = int(np.clip(np.searchsorted(steps, x), 0, len(steps) - 1))
        if i > 0 and abs(steps[i - 1] - x) < abs(steps[i] - x):
            i -= 1
        parts = [f"step {int(steps[i])}  epoch {int(self._epochs.y[i])}"]
        for name, c in self.curves.items():
            if i < c.raw.n:
                parts.append(f"{self.label_of(name)} {c.raw.y[i]:.4g}")
        text = "   ".join(parts)
        self.hover_line.setValue(float(steps[i]))
        self.hover_line.show()
        self.hover_label.setText(text)
        return text
