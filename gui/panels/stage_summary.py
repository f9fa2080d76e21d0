"""The stages of a pretraining run as a table: layer, kind, likelihood, progress, loss."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidgetItem, QWidget

from gui.run.model import RunModel, short_name
from gui.run.state import RunState
from gui.widgets.naming import named
from gui.widgets.table_with_note import add_table_with_note

COLUMNS = ("stage", "layer", "kind", "likelihood", "epochs", "val recon", "status")


class StageSummaryPanel(QWidget):
    """One row per stage, filled in as the stages run.

    Parameters
    ----------
    model : the runs on display; the table follows it (a run that is no stage of a job
        leaves it empty). Without one, :meth:`show` fills it.
    """

    def __init__(self, model: RunModel | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "stageSummaryPanel", "Pretraining stages")
        self.table, self.note = add_table_with_note(
            self, COLUMNS, "stagesTable", "Pretraining stages",
            "Each stage's layer, what it learns and how far it is",
            "stagesNote", "Pretraining stages note", stretch_all=False)
        self._rows: dict[str, int] = {}
        if model is not None:
            model.reset.connect(lambda: self.show(model))
            model.run_added.connect(lambda _run: self.show(model))
            model.run_changed.connect(lambda _run: self.show(model))

    def show(self, model: RunModel) -> None:
        """One row per planned stage and the stack, with how far each has come."""
        plan = [p for p in model.plan if p.role in ("stage", "stack")]
        self.table.setRowCount(0)
        self._rows.clear()
        for p in plan:
            run = model.runs.get(p.run_id)
            m = p.meta
            layer = (f"{m.get('input_dim', '')}→{m.get('width', '')}" if p.role == "stage"
                     else "whole stack")
            planned = run.planned_epochs if run is not None and run.config is not None \
                else int(m.get("epochs", 0))
            self._add_row(p.run_id, [short_name(p), layer, str(m.get("kind", "")),
                                     str(m.get("likelihood", "")), *self._progress(run, planned)])
        self.note.setText("Each stage trains on the frozen codes of the stages before it; "
                          "stage k ≥ 2 reconstructs codes, so its loss is per code vector."
                          if plan else "")

    @staticmethod
    def _progress(run: RunState | None, planned: int) -> list[str]:
        if run is None or run.config is None:
            return [f"0/{planned}", "", "waiting"]
        recon = run.val.get("recon", {})
        last = recon.get(max(recon)) if recon else math.nan
        status = "training" if run.status == "running" else run.status
        return [f"{run.last_epoch}/{planned}", f"{last:.4g}" if math.isfinite(last) else "",
                status]

    def _add_row(self, key: str, cells: list[str]) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        self._rows[key] = r
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignCenter if col else Qt.AlignLeft | Qt.AlignVCenter)
            self.table.setItem(r, col, item)

    def text(self, run_id: str, column: str) -> str:
        """The cell of a run in ``column`` (for tests and screen readers' checks)."""
        r = self._rows.get(run_id)
        return "" if r is None else self.table.item(r, COLUMNS.index(column)).text()

    def clear(self) -> None:
        self.table.setRowCount(0)
        self._rows.clear()
        self.note.clear()
