"""A greedy job on display: its stages as a table (layer, kind, likelihood, progress, loss)
and its first layer's features, each following the run model (:mod:`gui.run.following`)."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidgetItem, QWidget

from gui.panels.feature_grid import FeatureGridPanel
from gui.run.following import FollowsModel
from gui.run.model import short_name
from gui.run.state import RunState
from gui.widgets.naming import named
from gui.widgets.table_with_note import add_table_with_note

COLUMNS = ("stage", "layer", "kind", "likelihood", "epochs", "val recon", "status")


class StageSummaryPanel(FollowsModel, QWidget):
    """One row per stage, filled in as the stages run (a run that is no stage of a job
    leaves it empty)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "stageSummaryPanel", "Pretraining stages")
        self.table, self.note = add_table_with_note(
            self, COLUMNS, "stagesTable", "Pretraining stages",
            "Each stage's layer, what it learns and how far it is",
            "stagesNote", "Pretraining stages note", stretch_all=False)
        self._rows: dict[str, int] = {}

    def on_reset(self) -> None:
        self.refresh()

    def on_run_added(self, _run) -> None:
        self.refresh()

    def on_run_changed(self, _run) -> None:
        self.refresh()

    def refresh(self) -> None:
        """One row per planned stage and the stack, with how far each has come."""
        model = self.run_model
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


class StackFeaturesPanel(FollowsModel, FeatureGridPanel):
    """A job's first-layer features: stage 1's units once it has trained, the stacked
    encoder's first layer at the end (each unit's input weights as a picture)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("pretrain", parent)
        self._features_of: str | None = None    # "run id:step" of the features shown

    def on_reset(self) -> None:
        self._features_of = None
        self.set_features(None, "First-layer features appear when stage 1 ends."
                          if self.run_model.shows_stages else "")

    def on_run_added(self, _run) -> None:
        self._update()

    def on_run_changed(self, run) -> None:
        if run.status != "running":
            self._update()

    def _update(self) -> None:
        model = self.run_model
        if not model.shows_stages:
            return
        runs = {r.run_id: r for r in model.training_runs()}
        for run_id, caption in (("stack", "The stacked encoder's first layer"),
                                ("stage-1", "Stage 1's units: each unit's input weights")):
            run = runs.get(run_id)
            if run is None or run.status == "running":
                continue
            key = f"{run_id}:{run.last_step}"
            if key == self._features_of:
                return
            pixels = model.pixel_probes()
            features = None if pixels is None else \
                run.first_layer_features(tuple(pixels.shape[1:]))[0]
            if features is not None:
                self._features_of = key
                self.set_features(features, f"{caption}: {len(features)} units")
                return
