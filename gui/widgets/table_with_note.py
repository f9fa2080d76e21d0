"""A read-only table with a grey note under it (the stage and comparison summaries)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QTableWidget,
                               QVBoxLayout, QWidget)

from gui.widgets.caption import caption_label
from gui.widgets.naming import named


def add_table_with_note(panel: QWidget, columns: list[str], table_name: str, table_label: str,
                        table_help: str, note_name: str, note_label: str,
                        stretch_all: bool) -> tuple[QTableWidget, QLabel]:
    """Lay out a read-only, unselectable table over a word-wrapped note in ``panel``.

    ``stretch_all`` shares the width between columns; otherwise columns fit
    their contents and the last one takes the rest.
    """
    table = named(QTableWidget(0, len(columns)), table_name, table_label, table_help)
    table.setHorizontalHeaderLabels(columns)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.NoSelection)
    header = table.horizontalHeader()
    if stretch_all:
        header.setSectionResizeMode(QHeaderView.Stretch)
    else:
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setStretchLastSection(True)
    note = caption_label("", note_name, note_label, wrap=True, fixed_width=False)
    note.setTextFormat(Qt.PlainText)   # notes name files and runs, never markup
    layout = QVBoxLayout(panel)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(table, 1)
    layout.addWidget(note)
    return table, note
