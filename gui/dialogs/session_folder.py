"""The session folder's contents with their sizes, the user's budgets, and a way to delete
what is not needed (the app never deletes anything by itself)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QDoubleSpinBox,
                               QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSpinBox, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from engine.words import size_words
from gui.session_folder import delete_sessions, folder_words, list_sessions
from gui.widgets.caption import caption_label
from gui.widgets.naming import named

KINDS = {"session": "run", "lesson": "lesson", "folder": "folder"}


class SessionFolderDialog(QDialog):
    """Lists what the folder holds, newest first; deletes the chosen (or old) ones; sets
    the folder's budget and the weights each run keeps.

    Parameters
    ----------
    folder : the session folder.
    keep : files that must not be deleted (the session on display, the one training).
    preferences : where the budgets are kept (:class:`~gui.preferences.Preferences`);
        None shows no budgets.

    Signals
    -------
    deleted(list) : paths just deleted.
    budgets_changed() : the user changed a budget (already saved in the preferences).
    """

    deleted = Signal(list)
    budgets_changed = Signal()

    def __init__(self, folder: Path, keep: set[Path], parent: QWidget | None = None,
                 preferences=None):
        super().__init__(parent)
        named(self, "sessionFolderDialog", "Session folder")
        self.setWindowTitle("What the session folder holds")
        self.folder, self.keep, self.preferences = Path(folder), set(keep), preferences
        self.summary = named(QLabel(), "sessionFolderSummary", "Session folder summary")
        self.summary.setWordWrap(True)
        self.table = named(QTableWidget(0, 4), "sessionFilesTable", "Saved sessions and lessons")
        self.table.setHorizontalHeaderLabels(["saved", "what", "last written", "size"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.delete_button = named(QPushButton("Delete selected"), "deleteSessionsButton",
                                   "Delete the selected sessions")
        self.days_spin = named(QSpinBox(), "olderThanDaysSpin", "Age in days",
                               "Select the sessions last written more than this many days ago")
        self.days_spin.setRange(0, 3650)
        self.days_spin.setValue(30)
        self.days_spin.setSuffix(" days")
        self.select_old_button = named(QPushButton("Select older than"), "selectOldButton",
                                       "Select the old sessions")
        self.status = named(QLabel(""), "sessionFolderStatus", "What was deleted")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.select_old_button)
        row.addWidget(self.days_spin)
        row.addStretch(1)
        row.addWidget(self.delete_button)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.status)
        if preferences is not None:
            layout.addWidget(self._budget_box())
        layout.addWidget(buttons)
        self.delete_button.clicked.connect(self.delete_selected)
        self.select_old_button.clicked.connect(lambda: self.select_older_than(
            self.days_spin.value()))
        self.resize(680, 480)
        self.refresh()

    def _budget_box(self) -> QGroupBox:
        box = named(QGroupBox("Budgets"), "sessionBudgetsBox", "Budgets")
        form = QFormLayout(box)
        self.folder_budget_spin = named(
            QDoubleSpinBox(), "folderBudgetSpin", "Budget for the session folder",
            "When a new run would take the folder past this, the window says so and offers "
            "this dialog; nothing is deleted by itself. 0: no budget")
        self.folder_budget_spin.setRange(0, 100_000)
        self.folder_budget_spin.setDecimals(3)
        self.folder_budget_spin.setSuffix(" GB")
        self.folder_budget_spin.setSpecialValueText("no budget")
        self.folder_budget_spin.setValue(self.preferences.folder_budget / 1e9)
        self.weights_budget_spin = named(
            QDoubleSpinBox(), "weightsBudgetSpin", "Weights each run keeps for replay",
            "Each session keeps the model's weights at a few epochs (more for a larger "
            "budget) for the latent explorer, drawing pad and noise slider of replay; an "
            "epoch between decodes with the nearest earlier ones. Applies to new training")
        self.weights_budget_spin.setRange(0, 100_000)
        self.weights_budget_spin.setDecimals(1)
        self.weights_budget_spin.setSuffix(" MB")
        self.weights_budget_spin.setValue(self.preferences.weights_budget / 1e6)
        for spin, words in (
                (self.folder_budget_spin, "a new run that would pass it is announced; "
                                          "nothing is deleted by itself"),
                (self.weights_budget_spin, "for replay's explorer, drawing pad and noise "
                                           "slider, at a few epochs; new runs")):
            spin.setMaximumWidth(130)
            row = QHBoxLayout()
            row.addWidget(spin)
            row.addWidget(caption_label(words, spin.objectName() + "Caption",
                                        spin.accessibleName() + ": what it does",
                                        wrap=True), 1)
            form.addRow("Folder budget:" if spin is self.folder_budget_spin
                        else "Weights per run:", row)
        self.folder_budget_spin.valueChanged.connect(self._save_budgets)
        self.weights_budget_spin.valueChanged.connect(self._save_budgets)
        return box

    def _save_budgets(self, *_args) -> None:
        self.preferences.folder_budget = int(round(self.folder_budget_spin.value() * 1e9))
        self.preferences.weights_budget = int(round(self.weights_budget_spin.value() * 1e6))
        self._update_summary()
        self.budgets_changed.emit()

    @property
    def budget(self) -> int:
        return self.preferences.folder_budget if self.preferences is not None else 0

    def refresh(self) -> None:
        self.sessions = list_sessions(self.folder)
        self.table.setRowCount(len(self.sessions))
        shown = {k.resolve() for k in self.keep}
        for r, s in enumerate(self.sessions):
            is_open = any(k == s.path.resolve() or s.path.resolve() in k.parents for k in shown)
            name = s.name + ("  (open)" if is_open else "")
            for c, text in enumerate((name, KINDS.get(s.kind, s.kind),
                                      s.modified.strftime("%Y-%m-%d %H:%M"),
                                      size_words(s.size))):
                item = QTableWidgetItem(text)
                if c == 3:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self._update_summary()

    def _update_summary(self) -> None:
        self.summary.setText(f"{self.folder}: {folder_words(self.sessions, self.budget)}")

    def select_older_than(self, days: int) -> int:
        """Select the sessions last written more than ``days`` ago; how many."""
        from datetime import datetime, timedelta
        limit = datetime.now() - timedelta(days=days)
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.MultiSelection)
        n = 0
        for r, s in enumerate(self.sessions):
            if s.modified < limit:
                self.table.selectRow(r)
                n += 1
        self.table.setSelectionMode(mode)
        return n

    def delete_selected(self) -> list[Path]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        paths = [self.sessions[r].path for r in rows]
        if not paths:
            self.status.setText("Select the sessions to delete first.")
            return []
        deleted, problems = delete_sessions(paths, self.keep)
        freed = sum(s.size for s in self.sessions if s.path in deleted)
        self.status.setText(f"Deleted {len(deleted)} item(s), {size_words(freed)} freed."
                            + ("" if not problems else " Not deleted: " + "; ".join(problems)))
        self.refresh()
        if deleted:
            self.deleted.emit(deleted)
        return deleted
