"""A titled frame around a panel, and a row of widgets: how the window groups its views."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QVBoxLayout, QWidget

from gui.widgets.naming import named


def framed(title: str, name: str, panel: QWidget) -> QGroupBox:
    """``panel`` inside a QGroupBox titled ``title`` (object name ``name``)."""
    box = named(QGroupBox(title), name, title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(6, 4, 6, 6)
    layout.addWidget(panel)
    return box


def row_of(first: QWidget, *rest: QWidget) -> QWidget:
    """A margin-less widget holding ``first``, which takes the spare width, then ``rest``."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(first, 1)
    for w in rest:
        layout.addWidget(w)
    return row
