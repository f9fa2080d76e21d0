"""Giving every control an object name and an accessible name.

Automation (pytest-qt, screen readers, UI test tools) finds controls by
these names, so each control gets both, in one call, where it is made; a menu
action gets its object name the same way (:func:`make_action`).
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

W = TypeVar("W", bound=QWidget)


def named(widget: W, object_name: str, accessible_name: str,
          description: str | None = None) -> W:
    """Set ``widget``'s objectName, accessibleName (and description, tooltip); return it."""
    widget.setObjectName(object_name)
    widget.setAccessibleName(accessible_name)
    if description:
        widget.setAccessibleDescription(description)
        if not widget.toolTip():
            widget.setToolTip(description)
    return widget


def make_action(parent, text: str, name: str, slot, shortcut=None) -> QAction:
    """A QAction named ``name`` (automation finds menu entries as it finds buttons) that
    calls ``slot`` when triggered."""
    action = QAction(text, parent)
    action.setObjectName(name)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(slot)
    return action
