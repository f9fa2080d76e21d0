"""Validation accuracy per epoch: each pretrained encoder and random weights, side by side.

One plot per initialisation (two for one encoder; three for an RBM- and an
autoencoder-pretrained encoder beside random), with the same axes (linked),
one colour per label budget in all, so "100 labels, pretrained" and "100
labels, random" are the same colour in each plot. Training accuracy can be
added as dotted lines.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget

import gui.style  # noqa: F401  (pyqtgraph settings)
from gui.widgets.caption import caption_label
from gui.widgets.axes import ReadableAxis
from gui.widgets.naming import named

#: Okabe-Ito: distinct for the common colour-vision deficiencies.
BUDGET_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
INIT_TITLES = {"pretrained": "pretrained encoder", "random": "random initial weights",
               "rbm-pretrained": "RBM-pretrained (a DBN)",
               "ae-pretrained": "autoencoder-pretrained"}
AXIS_WIDTH = 56   # pixels of each plot's left axis


class _Series:
    """One run's curves: validation (solid) and training (dotted) accuracy in percent."""

    def __init__(self, plot: pg.PlotItem, colour: str):
        self.epochs: list[float] = []
        self.val: list[float] = []
        self.train: list[float] = []
        self.val_item = plot.plot(pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=5,
                                  symbolBrush=colour, symbolPen=None, antialias=True)
        self.train_item = plot.plot(pen=pg.mkPen(colour, width=1.5, style=Qt.DotLine),
                                    antialias=True)

    def set(self, val: dict[int, float], train: dict[int, float]) -> None:
        """The curves: epoch -> accuracy in 0..1, validation and training."""
        for item, values in ((self.val_item, val), (self.train_item, train)):
            x = np.asarray(sorted(values), dtype=float)
            item.setData(x, 100.0 * np.asarray([values[e] for e in sorted(values)], dtype=float))


class _SameTicks(pg.AxisItem):
    """The random plot's epoch axis: the ticks of the pretrained plot's, always.

    Tick spacing follows an axis's length in pixels, and the two plots are not
    quite as wide (their titles differ): the empty plots read "2 4 6 8" beside
    "1 2 3 … 9". With the same ticks, and numbers on the main ones only, they agree.
    """

    def __init__(self, leader: pg.AxisItem):
        super().__init__("bottom")
        self.leader = leader

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph's names)
        return self.leader.tickValues(minVal, maxVal, self.leader.geometry().width())


class AccuracyCurvesPanel(QWidget):
    """Accuracy curves of a comparison, pretrained left and random right."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "accuracyCurvesPanel", "Accuracy curves")
        self.graphics = named(pg.GraphicsLayoutWidget(), "accuracyPlots",
                              "Validation accuracy per epoch, pretrained and random "
                              "initialisation side by side")
        self.plots: dict[str, pg.PlotItem] = {}
        self.legend = pg.LegendItem(labelTextSize="8pt", verSpacing=-6)
        self._side = None
        self.set_columns(("pretrained", "random"))
        self.train_check = named(QCheckBox("Training accuracy too (dotted)"),
                                 "showTrainAccuracyCheck", "Show training accuracy",
                                 "Add each run's accuracy on its labelled images")
        self.caption = caption_label("Run a comparison to see accuracy curves.",
                                     "accuracyCaption", "Accuracy curves caption",
                                     fixed_width=False)
        controls = QHBoxLayout()
        controls.addWidget(self.caption, 1)
        controls.addWidget(self.train_check)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.graphics, 1)
        self.series: dict[tuple[str, int], _Series] = {}
        self.colours: dict[int, str] = {}
        self.explicit: set[int] = set()
        self.train_check.toggled.connect(self._apply_train_visibility)

    def set_columns(self, inits) -> None:
        """One plot per initialisation, left to right (random last); rebuilt when they change."""
        inits = tuple(inits)
        if tuple(self.plots) == inits:
            return
        for plot in self.plots.values():
            self.graphics.removeItem(plot)
        if self._side is not None:
            self._side.removeItem(self.legend)
            self.graphics.removeItem(self._side)
            self._side = None
        self.plots = {}
        for col, init in enumerate(inits):
            leader = next(iter(self.plots.values()), None)
            axes = ({"bottom": _SameTicks(leader.getAxis("bottom"))} if leader else
                    {"bottom": ReadableAxis("bottom", integer=True)})     # whole epochs
            plot = self.graphics.addPlot(row=0, col=col, title=INIT_TITLES.get(init, init),
                                         axisItems=axes)
            plot.showGrid(x=True, y=True, alpha=0.2)
            # The same width for every left axis (one has a label, the others not): plots of
            # the same width get the same epoch ticks, also before the first curve; numbers on
            # the main ticks only (a slightly wider axis also numbered the minor ones).
            plot.getAxis("left").setWidth(AXIS_WIDTH)
            plot.getAxis("bottom").setStyle(maxTextLevel=0)
            plot.setLabel("bottom", "epoch")
            plot.setYRange(0, 100, padding=0.02)
            plot.setLimits(yMin=-5, yMax=105)
            plot.enableAutoRange(y=False)
            self.graphics.ci.layout.setColumnStretchFactor(col, 1)
            self.plots[init] = plot
        first = self.plots[inits[0]]
        first.setLabel("left", "accuracy (%)")
        for plot in list(self.plots.values())[1:]:
            plot.setYLink(first)
            plot.setXLink(first)
        if len(inits) <= 2:   # beside the plots
            self._side = self.graphics.addLayout(row=0, col=len(inits))
            self._side.addItem(self.legend, row=0, col=0)
            self._side.addLabel("", row=1, col=0)
            self._side.layout.setRowStretchFactor(1, 1)
            self.legend.setColumnCount(1)
        else:                  # three plots leave no room beside: one line under them
            self._side = self.graphics.addLayout(row=1, col=0, colspan=len(inits))
            self._side.addItem(self.legend, row=0, col=0)
            self.legend.setColumnCount(4)
            self._side.setMaximumHeight(26)
            self.graphics.ci.layout.setRowStretchFactor(0, 1)
            self.graphics.ci.layout.setRowStretchFactor(1, 0)
        self.series = {}
        self._empty_epoch_axis()

    def begin(self, budgets: list, inits=("pretrained", "random")) -> None:
        """A new comparison of ``budgets`` (as asked: numbers and ``"all"``) and ``inits``."""
        for s in self.series.values():
            for plot in self.plots.values():
                plot.removeItem(s.val_item)
                plot.removeItem(s.train_item)
        self.series = {}
        self.set_columns(inits)
        self.colours.clear()
        self.legend.clear()
        self.explicit = {b for b in budgets if isinstance(b, int)}
        self.caption.setText("Validation accuracy per epoch; one colour per label budget.")
        self._empty_epoch_axis()

    def _empty_epoch_axis(self) -> None:
        """Epochs 1..10 until curves come (instead of pyqtgraph's 0..1 for no data);
        the axis follows the curves from their first point on."""
        plot = next(iter(self.plots.values()))   # the other plots' x axes are linked to it
        plot.setXRange(1, 10, padding=0.02)
        plot.enableAutoRange(x=True)

    def label(self, budget: int) -> str:
        """``"100 labels"``, or ``"all (4500)"`` for a budget asked for as 'all'."""
        return f"{budget} labels" if budget in self.explicit else f"all ({budget})"

    def set_run(self, init: str, budget: int, val: dict[int, float],
                train: dict[int, float]) -> None:
        """A run's curves (epoch -> accuracy 0..1); its budget gets a colour and a legend entry."""
        if budget not in self.colours:
            colour = BUDGET_COLOURS[len(self.colours) % len(BUDGET_COLOURS)]
            self.colours[budget] = colour
            key_item = pg.PlotDataItem(pen=pg.mkPen(colour, width=2), symbol="o",
                                       symbolSize=5, symbolBrush=colour, symbolPen=None)
            self.legend.addItem(key_item, self.label(budget))
        key = (init, budget)
        if key not in self.series and init in self.plots:
            self.series[key] = _Series(self.plots[init], self.colours[budget])
            self._apply_train_visibility()
        if key in self.series:
            self.series[key].set(val, train)

    def _apply_train_visibility(self, *_args) -> None:
        for s in self.series.values():
            s.train_item.setVisible(self.train_check.isChecked())
