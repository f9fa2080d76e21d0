"""The session folder's files, with their sizes, and a way to delete the ones not needed."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHBoxLayout,
                               QHeaderView, QLabel, QPushButton, QSpinBox, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from engine.words import size_words
from gui.session_folder import delete_sessions, list_sessions
from gui.widgets.naming import named


class SessionFolderDialog(QDialog):
    """Lists the folder's sessions, newest first; deletes the chosen (or old) ones.

    Parameters
    ----------
    folder : the session folder.
    keep : files that must not be deleted (the session on display, the one training).

    Signals
    -------
    deleted(list) : paths just deleted.
    """

    deleted = Signal(list)

    def __init__(self, folder: Path, keep: set[Path], parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "sessionFolderDialog", "Session folder")
        self.setWindowTitle("Sessions in the session folder")
        self.folder, self.keep = Path(folder), set(keep)
        self.summary = named(QLabel(), "sessionFolderSummary", "Session folder summary")
        self.table = named(QTableWidget(0, 3), "sessionFilesTable", "Session files")
        self.table.setHorizontalHeaderLabels(["session", "last written", "size"])
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
        layout.addWidget(buttons)
        self.delete_button.clicked.connect(self.delete_selected)
        self.select_old_button.clicked.connect(lambda: self.select_older_than(
            self.days_spin.value()))
        self.resize(640, 420)
        self.refresh()

    def refresh(self) -> None:
        self.sessions = list_sessions(self.folder)
        self.table.setRowCount(len(self.sessions))
        for r, s in enumerate(self.sessions):
            name = s.path.name + ("  (open)" if s.path.resolve() in
                                  {k.resolve() for k in self.keep} else "")
            for c, text in enumerate((name, s.modified.strftime("%Y-%m-%d %H:%M"),
                                      size_words(s.size))):
                item = QTableWidgetItem(text)
                if c == 2:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(r, c, item)
        total = sum(s.size for s in self.sessions)
        self.summary.setText(f"{self.folder}: {len(self.sessions)} session(s), "
                             f"{size_words(total)}")

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
        self.status.setText(f"Deleted {len(deleted)} session(s), {size_words(freed)} freed."
                            + ("" if not problems else " Not deleted: " + "; ".join(problems)))
        self.refresh()
        if deleted:
            self.deleted.emit(deleted)
        return deleted
