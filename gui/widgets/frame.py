"""A titled frame around a panel: how the window and its tabs group their views."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QVBoxLayout, QWidget

from gui.widgets.naming import named


def framed(title: str, name: str, panel: QWidget) -> QGroupBox:
    """``panel`` inside a QGroupBox titled ``title`` (object name ``name``)."""
    box = named(QGroupBox(title), name, title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(6, 4, 6, 6)
    layout.addWidget(panel)
    return box
