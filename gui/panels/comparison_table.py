"""Final validation accuracy per label budget: each pretrained encoder's column, and random.

Two columns for one encoder (``pretrained``, ``random``, and their
difference); with several (``rbm-pretrained``, ``ae-pretrained``) one
column each and each one's difference to random.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTableWidgetItem, QWidget

from engine.pretraining.comparison import ComparisonTable
from gui.widgets.naming import named
from gui.widgets.table_with_note import add_table_with_note

INIT_COLUMNS = ("pretrained", "random")
COLUMNS = ("labels", *INIT_COLUMNS, "difference")
BETTER, WORSE = QColor("#1b6e20"), QColor("#a40000")
#: Short headers for the columns of several encoders (six columns share a narrow table).
SHORT = {"ae-pretrained": "AE", "rbm-pretrained": "RBM"}


def percent(value: float) -> str:
    return "—" if not math.isfinite(value) else f"{100 * value:.1f}%"


class ComparisonTablePanel(QWidget):
    """The comparison's table, filled in as each classifier run ends."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "comparisonTablePanel", "Comparison table")
        self.table, self.note = add_table_with_note(
            self, COLUMNS, "comparisonTable",
            "Validation accuracy per label budget, pretrained versus random", "",
            "comparisonNote", "Comparison note", stretch_all=True)
        self._rows: dict[int, int] = {}
        self.accuracy: dict[tuple[str, int], float] = {}
        self.columns: tuple[str, ...] = COLUMNS
        self.inits: tuple[str, ...] = INIT_COLUMNS
        self.mode_note = ""

    def begin(self, mode: str, inits: tuple[str, ...] = INIT_COLUMNS) -> None:
        """A new comparison of ``inits`` (random last); ``mode`` says how the classifiers
        train (for the note)."""
        self.table.setRowCount(0)
        self._rows.clear()
        self.accuracy.clear()
        self.inits = tuple(inits)
        pre = [c for c in self.inits if c != "random"]
        diffs = ["difference"] if len(pre) == 1 else [f"{c} − random" for c in pre]
        self.columns = ("labels", *self.inits, *diffs)
        self.table.setColumnCount(len(self.columns))
        heads = [SHORT.get(c, c) for c in self.columns[:1 + len(self.inits)]]
        heads += ["difference"] if len(pre) == 1 else [f"Δ {SHORT.get(c, c)}" for c in pre]
        self.table.setHorizontalHeaderLabels(heads)
        for i, c in enumerate(self.columns):
            self.table.horizontalHeaderItem(i).setToolTip(
                f"{c}: percentage points over random" if c.endswith("random") else c)
        self.set_mode(mode)

    def set_mode(self, mode: str) -> None:
        """How the classifiers train, in the note under the table."""
        several = len(self.inits) > 2
        self.mode_note = (f"Validation accuracy (%) after the last epoch; differences in "
                          f"percentage points; {mode}."
                          + (" AE: autoencoder-pretrained, RBM: a deep belief network's."
                             if several else ""))
        self.note.setText(self.mode_note)

    def add_budget(self, budget: int, label: str) -> None:
        if budget in self._rows:
            return
        r = self.table.rowCount()
        self.table.insertRow(r)
        self._rows[budget] = r
        texts = [label] + ["…"] * len(self.inits)
        for col in range(len(self.columns)):
            item = QTableWidgetItem(texts[col] if col < len(texts) else "")
            item.setTextAlignment(Qt.AlignCenter)
            self.table.setItem(r, col, item)

    def set_accuracy(self, init: str, budget: int, value: float) -> None:
        """A run ended with validation accuracy ``value`` (0..1, NaN when it did not finish)."""
        self.accuracy[(init, budget)] = value
        r = self._rows.get(budget)
        if r is None or init not in self.columns:
            return
        text = percent(value)
        if len(self.inits) > 2:   # six narrow columns: the header says it is in percent
            text = text.rstrip("%")
        self.table.item(r, self.columns.index(init)).setText(text)
        q = self.accuracy.get(("random", budget), math.nan)
        pre = [c for c in self.inits if c != "random"]
        for c, col in zip(pre, self.columns[1 + len(self.inits):]):
            p = self.accuracy.get((c, budget), math.nan)
            diff = self.table.item(r, self.columns.index(col))
            if math.isfinite(p) and math.isfinite(q):
                diff.setText(f"{100 * (p - q):+.1f}")
                diff.setForeground(BETTER if p > q else WORSE if p < q else QColor("#303030"))

    def set_table(self, t: ComparisonTable, labels: dict[int, str]) -> None:
        """The whole table: runs that did not finish show a dash."""
        for i, budget in enumerate(t.budgets):
            self.add_budget(budget, labels.get(budget, str(budget)))
            for init, values in t.accuracy.items():
                self.set_accuracy(init, budget, float(values[i]))

    def cell(self, row: int, column: str) -> str:
        return self.table.item(row, self.columns.index(column)).text()
