"""File → Export figure: which panels apply to the run on display, and their plots as a PNG.

A panel applies when the window shows it for this run — the page a switch
shows (a GAN's discriminator view, not the RBM's Gibbs chains), not hidden,
and not standing in for data with its reason ("samples need a prior") — and
there is a run on display (:func:`why_not_exportable`). The export is the
plots themselves, without the controls around them: each pyqtgraph view of
the panel is drawn by pyqtgraph's :class:`~pyqtgraph.exporters.ImageExporter`
at :data:`REPORT_WIDTH` pixels across (text and lines re-drawn at that size,
not a screen grab enlarged), placed as on screen (:func:`render_plots`). A
panel without plots (a table) is drawn at twice its size.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401  (pg.exporters)
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import (QApplication, QGraphicsItem, QGroupBox, QStackedWidget,
                               QTabWidget, QWidget)

#: Pixels across an exported figure: about 15 cm at 300 dpi, a report's column.
REPORT_WIDTH = 1800
WIDGET_SCALE = 2           # a panel with no plots: drawn at twice its size on screen


def figure_title(window, key: str) -> str:
    """How the Export figure menu and messages name ``key`` ("Loss curves")."""
    if key == "window":
        return "Whole window"
    frame = window.frames[key]
    return frame.title() if isinstance(frame, QGroupBox) else frame.accessibleName() + " tab"


def why_not_exportable(window, key: str) -> str:
    """Why ``key`` has nothing to export for the run on display ("" when it has)."""
    if key == "window":
        return ""
    if not window.model.runs:
        return "has nothing to show: train a run or open a session first"
    frame = window.frames[key]
    if frame.isHidden():
        return "is not shown for this run"
    w = frame
    while w is not None and w is not window:
        parent = w.parentWidget()
        # A switch's other page is for other runs; a tab is brought forward to export it.
        if (isinstance(parent, QStackedWidget) and parent.currentWidget() is not w
                and not isinstance(parent.parentWidget(), QTabWidget)):
            return "is not shown for this run"
        w = parent
    # A panel that shows its reason instead of data: the frame's own word, else its views'.
    own = _offers(frame)
    flags = [own] if own is not None else [
        f for p in frame.findChildren(QWidget) if p.isVisibleTo(frame)
        for f in [_offers(p)] if f is not None]
    if flags and not any(flags):
        return "has nothing to show for this run"
    return ""


def _offers(panel: QWidget) -> bool | None:
    """Whether ``panel`` has something to show for the run on display: a code view's
    ``applies`` (decided when the run arrives, drawn when seen), else a panel's ``showing``;
    None for a widget that does not say."""
    applies = getattr(panel, "applies", None)
    if isinstance(applies, bool):
        return applies
    if isinstance(getattr(type(panel), "showing", None), property):
        return panel.showing
    return None


def bring_forward(window, widget: QWidget) -> None:
    """Make the tabs that hold ``widget`` the current ones (so it is laid out and drawn)."""
    w = widget
    while w is not None and w is not window:
        parent = w.parentWidget()
        if isinstance(parent, QStackedWidget) and isinstance(parent.parentWidget(), QTabWidget):
            parent.parentWidget().setCurrentWidget(w)
        w = parent


def plot_views(frame: QWidget) -> list[pg.GraphicsView]:
    """The pyqtgraph views of ``frame`` on screen."""
    views = frame.findChildren(pg.GraphicsView)
    return [v for v in views if v.isVisible() and v.width() > 1 and v.height() > 1]


def render_plots(frame: QWidget, width: int = REPORT_WIDTH) -> QImage | None:
    """The plots of ``frame``, laid out as on screen, ``width`` pixels across at least
    (None when it has no plot)."""
    views = plot_views(frame)
    if not views:
        return None
    rects = {v: QRect(v.mapTo(frame, QPoint(0, 0)), v.size()) for v in views}
    box = QRect()
    for r in rects.values():
        box = box.united(r)
    scale = max(1.0, width / box.width())
    out = QImage(math.ceil(box.width() * scale), math.ceil(box.height() * scale),
                 QImage.Format_ARGB32)
    out.fill(Qt.white)
    painter = QPainter(out)
    try:
        for v, r in rects.items():
            with _legends_scaled(v.scene()):
                exporter = pg.exporters.ImageExporter(v.centralWidget)
                exporter.parameters()["width"] = max(1, round(r.width() * scale))
                image = exporter.export(toBytes=True)
            painter.drawImage(QPointF((r.x() - box.x()) * scale, (r.y() - box.y()) * scale),
                              image)
    finally:
        painter.end()
    return out


@contextmanager
def _legends_scaled(scene):
    """Legends keep their screen size at any zoom (they ignore transformations): in an
    export drawn larger they came out a third of the size of the axes' text."""
    ignoring = QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations
    legends = [item for item in scene.items() if isinstance(item, pg.LegendItem)
               and item.flags() & ignoring]
    for item in legends:
        item.setFlag(ignoring, False)
    try:
        yield
    finally:
        for item in legends:
            item.setFlag(ignoring, True)


def render_widget(widget: QWidget, scale: int = WIDGET_SCALE) -> QImage:
    """``widget`` drawn at ``scale`` times its size (text re-drawn, not enlarged)."""
    out = QImage(widget.width() * scale, widget.height() * scale, QImage.Format_ARGB32)
    out.fill(Qt.white)
    painter = QPainter(out)
    try:
        painter.scale(scale, scale)
        widget.render(painter, QPoint(0, 0))
    finally:
        painter.end()
    return out


def export_figure(window, which: str, path) -> tuple[bool, str]:
    """Save a PNG of ``window``'s panel ``which`` at a report's resolution (a key of
    ``window.frames``: ``loss-curves``, ``kl-per-dimension``, …), or of the ``window``.

    Only a panel that applies to the run on display (:func:`why_not_exportable`).

    Returns
    -------
    (written, what to tell the user: where the file went, or why there is none)
    """
    title = figure_title(window, which)
    why = why_not_exportable(window, which)
    if why:
        return False, f"No figure written: {title} {why}."
    if which == "window":
        image = window.grab().toImage()
    else:
        frame = window.frames[which]
        bring_forward(window, frame)
        QApplication.processEvents()   # laid out and drawn before it is exported
        window.code_views.flush()
        image = render_plots(frame) or render_widget(frame)
    if not image.save(str(path), "PNG"):
        return False, (f"Cannot write the image {path}: check the folder exists and can be "
                       "written.")
    return True, (f"{title} exported to {Path(path).resolve()} ({image.width()} × "
                  f"{image.height()} pixels).")
