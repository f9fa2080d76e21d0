"""What a user sees as a broken layout, measured: widgets a layout drew over each other, and
controls outside their window (used by the window-fit tests at 1366x768)."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QLayout, QWidget


def _managed(layout: QLayout) -> list[QWidget]:
    """The widgets ``layout`` and its nested layouts place."""
    found = []
    for i in range(layout.count()):
        item = layout.itemAt(i)
        if item.widget() is not None:
            found.append(item.widget())
        elif item.layout() is not None:
            found.extend(_managed(item.layout()))
    return found


def overlapping_widgets(root: QWidget, slack: int = 1) -> list[tuple[str, str, QRect, QRect]]:
    """Pairs of visible widgets that one layout placed over each other (more than ``slack``
    pixels each way), anywhere under ``root``: a layout squeezed below what its widgets
    need draws them on top of one another instead of shrinking them."""
    pairs = []
    for parent in [root, *root.findChildren(QWidget)]:
        if not parent.isVisible() or parent.layout() is None:
            continue
        widgets = [w for w in _managed(parent.layout()) if w.isVisible()]
        for i, a in enumerate(widgets):
            ra = a.geometry().adjusted(slack, slack, -slack, -slack)
            for b in widgets[i + 1:]:
                rb = b.geometry().adjusted(slack, slack, -slack, -slack)
                if ra.intersects(rb):
                    pairs.append((_name(a), _name(b), a.geometry(), b.geometry()))
    return pairs


def outside_window(window: QWidget, names: list[str] | None = None) -> list[str]:
    """Visible controls (or the ``names`` given) that lie partly outside ``window``."""
    from PySide6.QtWidgets import QAbstractButton, QAbstractSlider, QComboBox, QLineEdit, \
        QSpinBox, QStatusBar
    kinds = (QAbstractButton, QAbstractSlider, QComboBox, QLineEdit, QSpinBox, QStatusBar)
    widgets = ([window.findChild(QWidget, n) for n in names] if names else
               [w for w in window.findChildren(QWidget) if isinstance(w, kinds)])
    bad = []
    for w in widgets:
        if w is None or not w.isVisible() or _scrolled(w, window):
            continue
        top_left = w.mapTo(window, w.rect().topLeft())
        r = QRect(top_left, w.size())
        if not window.rect().contains(r):
            bad.append(f"{_name(w)} at {r.x()},{r.y()} {r.width()}x{r.height()}")
    return bad


def _scrolled(w: QWidget, window: QWidget) -> bool:
    """Inside a scroll area: reachable by scrolling, so not cut off."""
    from PySide6.QtWidgets import QAbstractScrollArea
    p = w.parentWidget()
    while p is not None and p is not window:
        if isinstance(p, QAbstractScrollArea):
            return True
        p = p.parentWidget()
    return False


def _name(w: QWidget) -> str:
    return w.objectName() or f"{type(w).__name__}({w.accessibleName() or id(w)})"
