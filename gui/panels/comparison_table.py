"""Final validation accuracy, pretrained versus random, one row per label budget."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTableWidgetItem, QWidget

from engine.pretraining.comparison import ComparisonTable
from gui.widgets.naming import named
from gui.widgets.table_with_note import add_table_with_note

COLUMNS = ("labels", "pretrained", "random", "difference")
BETTER, WORSE = QColor("#1b6e20"), QColor("#a40000")


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

    def begin(self, mode: str) -> None:
        """A new comparison; ``mode`` says how the classifiers train (for the note)."""
        self.table.setRowCount(0)
        self._rows.clear()
        self.accuracy.clear()
        self.note.setText(f"Validation accuracy after the last epoch; difference in "
                          f"percentage points; {mode}.")

    def add_budget(self, budget: int, label: str) -> None:
        if budget in self._rows:
            return
        r = self.table.rowCount()
        self.table.insertRow(r)
        self._rows[budget] = r
        for col, text in enumerate((label, "…", "…", "")):
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignCenter)
            self.table.setItem(r, col, item)

    def set_accuracy(self, init: str, budget: int, value: float) -> None:
        """A run ended with validation accuracy ``value`` (0..1, NaN when it did not finish)."""
        self.accuracy[(init, budget)] = value
        r = self._rows.get(budget)
        if r is None or init not in COLUMNS:
            return
        self.table.item(r, COLUMNS.index(init)).setText(percent(value))
        p = self.accuracy.get(("pretrained", budget), math.nan)
        q = self.accuracy.get(("random", budget), math.nan)
        diff = self.table.item(r, COLUMNS.index("difference"))
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
        return self.table.item(row, COLUMNS.index(column)).text()
