"""Giving every control an object name and an accessible name.

Automation (pytest-qt, screen readers, UI test tools) finds controls by
these names, so each control gets both, in one call, where it is made.
"""

from __future__ import annotations

from typing import TypeVar

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
