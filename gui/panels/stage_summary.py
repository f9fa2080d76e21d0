"""The stages of a pretraining run as a table: layer, kind, likelihood, progress, loss."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidgetItem, QWidget

from engine.pretraining.events import FINETUNE, PretrainStarted, StageCompleted, StageStarted
from gui.widgets.naming import named
from gui.widgets.table_with_note import add_table_with_note

COLUMNS = ("stage", "layer", "kind", "likelihood", "epochs", "val recon", "status")


def stage_name(stage: int, role: str) -> str:
    """``"stage 2"``, or ``"end-to-end"`` for the fine-tuning pass (the loss plot's labels)."""
    return "end-to-end" if role == FINETUNE else f"stage {stage}"


class StageSummaryPanel(QWidget):
    """One row per stage, filled in as the stages run."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "stageSummaryPanel", "Pretraining stages")
        self.table, self.note = add_table_with_note(
            self, COLUMNS, "stagesTable", "Pretraining stages",
            "Each stage's layer, what it learns and how far it is",
            "stagesNote", "Pretraining stages note", stretch_all=False)
        self._rows: dict[int, int] = {}
        self._epochs: dict[int, int] = {}

    def begin(self, ev: PretrainStarted) -> None:
        """A new run: one row per planned stage (and the end-to-end pass)."""
        self.table.setRowCount(0)
        self._rows.clear()
        c, h, w = ev.image_shape
        sizes = (c * h * w,) + tuple(ev.widths)
        for k, kind in enumerate(ev.kinds, start=1):
            self._add_row(k, [f"stage {k}", f"{sizes[k - 1]}→{sizes[k]}", kind, "",
                              f"0/{ev.stage_epochs}", "", "waiting"])
        if ev.finetune_epochs:
            self._add_row(len(ev.widths) + 1, [
                "end-to-end", "-".join(str(s) for s in sizes), "whole stack", "",
                f"0/{ev.finetune_epochs}", "", "waiting"])
        self.note.setText("Each stage trains on the frozen codes of the stages before it; "
                          "stage k ≥ 2 reconstructs codes, so its loss is per code vector.")

    def _add_row(self, stage: int, cells: list[str]) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        self._rows[stage] = r
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignCenter if col else Qt.AlignLeft | Qt.AlignVCenter)
            self.table.setItem(r, col, item)

    def _set(self, stage: int, column: str, text: str) -> None:
        r = self._rows.get(stage)
        if r is not None:
            self.table.item(r, COLUMNS.index(column)).setText(text)

    def stage_started(self, ev: StageStarted) -> None:
        self._epochs[ev.stage] = ev.epochs
        self._set(ev.stage, "likelihood", ev.likelihood)
        self._set(ev.stage, "status", "training")

    def epoch_ended(self, stage: int, epoch: int, val: dict[str, float]) -> None:
        """Epoch ``epoch`` (within the stage) ended with validation terms ``val``."""
        self._set(stage, "epochs", f"{epoch}/{self._epochs.get(stage, epoch)}")
        recon = val.get("recon", math.nan)
        if math.isfinite(recon):
            self._set(stage, "val recon", f"{recon:.4g}")

    def stage_completed(self, ev: StageCompleted) -> None:
        self._set(ev.stage, "status", ev.outcome)

    def text(self, stage: int, column: str) -> str:
        """The cell of ``stage`` in ``column`` (for tests and screen readers' checks)."""
        r = self._rows.get(stage)
        return "" if r is None else self.table.item(r, COLUMNS.index(column)).text()

    def clear(self) -> None:
        self.table.setRowCount(0)
        self._rows.clear()
        self.note.clear()
