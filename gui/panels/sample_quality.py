"""Sample quality: FID and precision / recall of a generative model's samples, epoch by epoch.

Explicit against implicit, measured: a VAE, a GAN and an RBM trained on the
same data score their samples against the same held-out images
(:mod:`engine.analysis.quality_probe`). Left, the FID over the saved epochs
(log scale; lower is better); right, precision (are the samples realistic?)
and recall (do they cover the data?). Dashed: what real training images
score against the same held-out images — the best a model can do at this
sample size. The run on display is drawn bold, live and in replay; sessions
added to the Generative models tab beside it, thinner, in their colours
(:meth:`SampleQualityPanel.set_compared`).

Measured in the app's own digit classifier's features for the bundled digits
(not comparable with Inception FIDs), in data space for 2-D points; another
data set, or a model that draws no samples, gets the reason instead.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout

from engine.analysis.quality_probe import ARRAY, REAL_ARRAY, is_score, scoring_every
from engine.export.quality_words import QualitySeries, applies, scores_words
from gui.panels.code_view import NO_EPOCH, OLD_SESSION, CodeViewPanel, quiet_plot
from gui.panels.jacobian_spectrum import log_ticks
from gui.widgets.caption import caption_label
from gui.widgets.naming import named

#: The run on display is drawn bold and dark; compared runs thin, in their columns' colours.
SHOWN = "#222222"
FID_FLOOR = 1e-8      # a log axis cannot show a zero FID


def _plot(name: str, title: str, y_label: str) -> pg.PlotWidget:
    widget = named(pg.PlotWidget(), name, title)
    plot = widget.getPlotItem()
    plot.setTitle(title, size="9pt")
    plot.setLabel("bottom", "epoch")
    plot.setLabel("left", y_label)
    plot.showGrid(x=True, y=True, alpha=0.2)
    quiet_plot(plot)
    return widget


def _log_fid(values) -> np.ndarray:
    return np.log10(np.maximum(np.asarray(values, np.float64), FID_FLOOR))


class SampleQualityPanel(CodeViewPanel):
    """FID, precision and recall over the epochs of the run on display and of compared runs."""

    view_name = "sample_quality"
    object_name = "sampleQuality"
    title = "Sample quality"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.fid_widget = _plot("sampleQualityFidPlot", "FID against held-out images "
                                "(lower is better)", "FID (log scale)")
        self.pr_widget = _plot("sampleQualityPrecisionRecallPlot",
                               "● precision, solid (realistic) and ▲ recall, dotted "
                               "(coverage)", "share")
        fp, pp = self.fid_widget.getPlotItem(), self.pr_widget.getPlotItem()
        pp.setYRange(0, 1.02, padding=0)
        self.compared_items: list = []
        self.curves = {
            "fid": fp.plot(pen=pg.mkPen(SHOWN, width=2.5), symbol="o", symbolSize=5,
                           symbolBrush=SHOWN, symbolPen=None),
            "precision": pp.plot(pen=pg.mkPen(SHOWN, width=2.5), symbol="o", symbolSize=6,
                                 symbolBrush=SHOWN, symbolPen=None),
            "recall": pp.plot(pen=pg.mkPen(SHOWN, width=2.5, style=Qt.DotLine), symbol="t1",
                              symbolSize=7, symbolBrush=SHOWN, symbolPen=None),
        }
        for curve in self.curves.values():   # the run on display above the compared ones
            curve.setZValue(10)
        self.floors = {}
        for key, plot in (("fid", fp), ("precision", pp), ("recall", pp)):
            line = pg.InfiniteLine(angle=0, pen=pg.mkPen("#999999", width=1, style=Qt.DashLine))
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=key != "fid")
            self.floors[key] = line
        self.epoch_lines = []
        for plot in (fp, pp):
            line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#7a7a7a", style=Qt.DashLine))
            plot.addItem(line, ignoreBounds=True)
            self.epoch_lines.append(line)
        self.caption = caption_label("", "sampleQualityCaption", "Sample quality caption",
                                     wrap=True)
        plots = QHBoxLayout()
        plots.addWidget(self.fid_widget, 1)
        plots.addWidget(self.pr_widget, 1)
        self.body_layout.addLayout(plots, 1)
        self.body_layout.addWidget(self.caption)
        self.series: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros((0, 3)))
        self.compared: list[tuple[str, str, QualitySeries]] = []
        self.space = ""        # the feature space of the run on display

    # -- the view interface -----------------------------------------------------------------
    def why_not(self, run) -> str:
        return applies(run.config, run.data.image_shape)[1]

    def prepare(self, run) -> None:
        self.space = applies(run.config, run.data.image_shape)[0].name
        self._draw_compared()

    def draw(self, run, epoch, snapshot) -> None:
        every = scoring_every(run.config, run.data.image_shape)
        stored, rows = run.arrays_over_epochs(ARRAY)
        kept = [(e, r) for e, r in zip(stored, rows) if is_score(r)]   # NaN: not scored
        epochs, values = [e for e, _ in kept], [r for _, r in kept]
        scored = [k for k, e in enumerate(epochs) if e <= epoch]
        if not scored:
            self._say(OLD_SESSION.format(view="sample quality", array=ARRAY)
                      if run.stored is not None and not stored else NO_EPOCH)
            return
        e = np.asarray(epochs, float)
        v = np.asarray(values, np.float64).reshape(-1, 3)
        self.series = (e, v)
        self.curves["fid"].setData(e, _log_fid(v[:, 0]))
        self.curves["precision"].setData(e, v[:, 1])
        self.curves["recall"].setData(e, v[:, 2])
        last = scored[-1]
        real = np.asarray(run.snapshot(int(epochs[last])).arrays.get(
            REAL_ARRAY, np.full(3, np.nan)), np.float64).reshape(3)
        for k, key in enumerate(("fid", "precision", "recall")):
            ok = bool(np.isfinite(real[k]))
            self.floors[key].setVisible(ok)
            if ok:
                self.floors[key].setValue(_log_fid(real[0]) if key == "fid" else real[k])
        for line in self.epoch_lines:
            line.setValue(epoch)
        self._fid_ticks()
        when = f"epoch {epoch}" + (f", step {snapshot.step:,}" if snapshot.preview else "")
        if int(epochs[last]) != epoch:
            when += f" (not scored; epoch {int(epochs[last])})"
        space, _ = applies(run.config, run.data.image_shape)
        how = (f" Scored at the first epoch and every {every}th (quality_every)."
               if every > 1 else "")
        shown = [label for label, _, _ in self._comparable()]
        others = (f" Bold: this run; thin: {', '.join(shown)} (the columns above, in their "
                  "colours)." if shown else "")
        items = space.items
        self.fid_widget.getPlotItem().setTitle(f"FID against held-out {items} (lower is better)",
                                               size="9pt")
        self.caption.setText(
            f"{when}: {scores_words(v[last], real, items)} — in brackets (grey dashes), real "
            f"training {items} against the same held-out {items}. Measured {space.words()}."
            f"{how}{others}")

    def reset_plots(self) -> None:
        for curve in self.curves.values():
            curve.clear()
        for line in self.floors.values():
            line.setVisible(False)
        self.series = (np.zeros(0), np.zeros((0, 3)))

    # -- other runs beside it ------------------------------------------------------------------
    def set_compared(self, runs: list[tuple[str, str, QualitySeries]]) -> None:
        """Draw these runs' series too, thin: (label, colour, series) each (the Generative
        models tab's columns). Only those measured in the feature space of the run on
        display are drawn: FIDs in other spaces are on other scales."""
        self.compared = [(label, colour, s) for label, colour, s in runs if len(s.epochs)]
        self._draw_compared()
        if self.run is not None and self.epoch is not None and self.showing:
            self.show_epoch(self.run, self.epoch)      # the caption names them

    def _comparable(self) -> list[tuple[str, str, QualitySeries]]:
        return [c for c in self.compared if c[2].space.name == self.space]

    def _draw_compared(self) -> None:
        fp, pp = self.fid_widget.getPlotItem(), self.pr_widget.getPlotItem()
        for plot, item in self.compared_items:
            plot.removeItem(item)
        self.compared_items = []
        for label, colour, s in self._comparable():
            e = s.epochs.astype(float)
            self.compared_items += [
                (fp, fp.plot(e, _log_fid(s.values[:, 0]), pen=pg.mkPen(colour, width=1.2))),
                (pp, pp.plot(e, s.values[:, 1], pen=pg.mkPen(colour, width=1.2), symbol="o",
                             symbolSize=5, symbolBrush=colour, symbolPen=None)),
                (pp, pp.plot(e, s.values[:, 2], pen=pg.mkPen(colour, width=1.2,
                                                              style=Qt.DotLine),
                             symbol="t1", symbolSize=6, symbolBrush=colour, symbolPen=None))]
        self._fid_ticks()

    def _fid_ticks(self) -> None:
        logs = [c for c in [self.curves["fid"].getData()[1]] if c is not None and len(c)]
        logs += [_log_fid(s.values[:, 0]) for _, _, s in self._comparable()]
        if self.floors["fid"].isVisible():
            logs.append(np.array([self.floors["fid"].value()]))
        logs = [x[np.isfinite(x)] for x in logs]
        logs = [x for x in logs if len(x)]
        if logs:
            values = np.concatenate(logs)
            self.fid_widget.getPlotItem().getAxis("left").setTicks(
                [log_ticks(float(values.min()), float(values.max()))])
