"""The confusion matrix of one classifier run: true class by row, prediction by column.

An ImageItem of the counts on a white-to-blue scale with each count written
in its cell (dark text on light cells, white on dark), and a chooser for
which of the comparison's runs to show.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

import gui.style  # noqa: F401  (row-major images)
from gui.widgets.caption import caption_label
from gui.widgets.naming import named

COUNT_MAP = pg.ColorMap([0.0, 1.0], [(255, 255, 255), (8, 48, 107)])
MAX_WRITTEN = 20   # more classes than this: cells too small for numbers
EMPTY_CAPTION = "The validation set's confusion matrix appears when a classifier run ends."


class ConfusionMatrixPanel(QWidget):
    """Shows the confusion matrix of a chosen run of the comparison."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "confusionMatrixPanel", "Confusion matrix")
        self.run_combo = named(QComboBox(), "confusionRunCombo", "Run shown",
                               "Which classifier run's confusion matrix to show")
        self.graphics = named(pg.GraphicsLayoutWidget(), "confusionMatrixView",
                              "Confusion matrix: rows are true classes, columns predictions")
        self.plot: pg.PlotItem = self.graphics.addPlot()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.setLabel("left", "true class")
        self.plot.setLabel("bottom", "predicted class")
        self.image_item = pg.ImageItem()
        self.image_item.setColorMap(COUNT_MAP)
        self.plot.addItem(self.image_item)
        self.caption = caption_label(EMPTY_CAPTION, "confusionCaption",
                                     "Confusion matrix caption", wrap=True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Run"))
        top.addWidget(self.run_combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.caption)
        layout.addWidget(self.graphics, 1)
        self.runs: dict[tuple[str, int], np.ndarray] = {}
        self.label_names: tuple[str, ...] | None = None
        self.texts: list[pg.TextItem] = []
        self.shown: tuple[str, int] | None = None
        self.matrix: np.ndarray | None = None
        self.run_combo.currentIndexChanged.connect(self._on_choice)
        self._show_empty()

    def clear(self) -> None:
        self.runs.clear()
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        self.run_combo.blockSignals(False)
        self.image_item.clear()
        self._clear_texts()
        self.shown = self.matrix = None
        self._show_empty()

    def _show_empty(self) -> None:
        """No matrix yet: an empty square, not the numbers of an arbitrary range."""
        for side in ("left", "bottom"):
            self.plot.getAxis(side).setTicks([[]])
        self.plot.setRange(xRange=(0, 10), yRange=(0, 10), padding=0.02)
        self.caption.setText(EMPTY_CAPTION)

    def set_label_names(self, names: tuple[str, ...] | None) -> None:
        self.label_names = names

    def add_run(self, key: tuple[str, int], confusion: np.ndarray, title: str) -> None:
        """Keep a run's matrix (K, K); show it (the newest run is the one worth watching)."""
        self.runs[key] = np.asarray(confusion, np.int64)
        i = self.run_combo.findData(key)
        if i < 0:
            self.run_combo.addItem(title, key)
            i = self.run_combo.count() - 1
        self.run_combo.setCurrentIndex(i)
        self.show_run(key)

    def _on_choice(self, index: int) -> None:
        key = self.run_combo.itemData(index)
        if key is not None:
            self.show_run(tuple(key))

    def show_run(self, key: tuple[str, int]) -> None:
        cm = self.runs.get(key)
        if cm is None:
            return
        self.shown, self.matrix = key, cm
        k = cm.shape[0]
        top = max(1, int(cm.max()))
        self.image_item.setImage(cm.astype(np.float32), levels=(0.0, float(top)))
        self.image_item.setRect(0, 0, k, k)
        self._clear_texts()
        if k <= MAX_WRITTEN:
            for i in range(k):
                for j in range(k):
                    dark = cm[i, j] > 0.55 * top
                    t = pg.TextItem(str(cm[i, j]), color="w" if dark else "#1a1a1a",
                                    anchor=(0.5, 0.5))
                    t.setPos(j + 0.5, i + 0.5)
                    self.plot.addItem(t)
                    self.texts.append(t)
        names = self.label_names if self.label_names and len(self.label_names) == k else \
            tuple(str(i) for i in range(k))
        ticks = [[(i + 0.5, n) for i, n in enumerate(names)]]
        self.plot.getAxis("left").setTicks(ticks)
        self.plot.getAxis("bottom").setTicks(ticks)
        self.plot.setRange(xRange=(0, k), yRange=(0, k), padding=0.02)
        total = int(cm.sum())
        correct = int(np.trace(cm))
        self.caption.setText(f"{self.run_combo.currentText()}: {correct} of {total} "
                             f"validation images right ({100 * correct / max(1, total):.1f}%)")

    def _clear_texts(self) -> None:
        for t in self.texts:
            self.plot.removeItem(t)
        self.texts = []
