"""Draw your own distribution (GAN Lab's tool): click and drag on the data-space plane.

The plane is data space, the unit square every 2-D set lives in. Pressing
and dragging sprays points around the cursor (:func:`engine.data.drawn.spray`,
the brush's radius and density set below the plane); each press-drag-release
is one *stroke*, coloured as the latent map will colour it. Undo removes the
last stroke, Clear all of them. The drawing is the run's data set: its text
(:func:`engine.data.drawn.encode_points`) is ``data.points`` in the run's
config, so it is saved with the session and trains like any data set.

The panel lives in the run settings, shown while the data source is
"2-D points: draw your own"; :attr:`points_changed` carries the new text.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from engine.data.drawn import MAX_POINTS, MIN_POINTS, decode_points, encode_points, spray
from engine.data.toy2d import DATA_EXTENT
from gui.style import LABEL_COLOURS
from gui.widgets.caption import caption_label
from gui.widgets.naming import named

BRUSH_RADIUS = 0.04          # of the unit square
POINTS_PER_DAB = 6           # sprayed at each mouse event of a drag
MIN_STEP = 0.01              # a drag sprays again once the cursor has moved this far
PLANE_SIDE = 260             # pixels: fits the run settings' column


class _DrawingBox(pg.ViewBox):
    """A ViewBox that turns left-button presses and drags into strokes (no panning)."""

    def __init__(self, panel: "DrawDistributionPanel"):
        super().__init__(lockAspect=True, enableMouse=False, enableMenu=False)
        self.panel = panel

    def _point(self, ev) -> np.ndarray:
        p = self.mapSceneToView(ev.scenePos())
        return np.array([p.x(), p.y()])

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph's name)
        if ev.button() != Qt.LeftButton:
            ev.ignore()
            return
        ev.accept()
        self.panel.begin_stroke(self._point(ev))
        self.panel.end_stroke()

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph's name)
        if ev.button() != Qt.LeftButton:
            ev.ignore()
            return
        ev.accept()
        if ev.isStart():
            start = self.mapSceneToView(ev.buttonDownScenePos())
            self.panel.begin_stroke(np.array([start.x(), start.y()]))
        self.panel.extend_stroke(self._point(ev))
        if ev.isFinish():
            self.panel.end_stroke()


class DrawDistributionPanel(QWidget):
    """The plane to draw on, its brush and its strokes (see the module docstring).

    Signals
    -------
    points_changed(str) : the drawing as ``data.points`` text, after each stroke.
    """

    points_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "drawDistribution", "Draw your own distribution",
              "Click and drag on the plane to spray the points of your own training set")
        self.box = _DrawingBox(self)
        self.plot_widget = named(pg.PlotWidget(viewBox=self.box), "drawDistributionPlane",
                                 "Data space to draw on",
                                 "Press and drag to spray points; each drag is one stroke")
        self.plot_widget.setFixedHeight(PLANE_SIDE)
        self.plot_widget.setMinimumWidth(200)
        plot = self.plot_widget.getPlotItem()
        plot.hideButtons()
        lo, hi = DATA_EXTENT
        plot.setRange(xRange=(lo, hi), yRange=(lo, hi), padding=0.02)
        for side in ("left", "bottom"):
            plot.getAxis(side).setStyle(tickLength=-4)
        border = pg.PlotCurveItem([lo, hi, hi, lo, lo], [lo, lo, hi, hi, lo],
                                  pen=pg.mkPen("#999", width=1))
        plot.addItem(border)
        self.scatter = pg.ScatterPlotItem(size=4, pen=None)
        plot.addItem(self.scatter)
        self.brush_spin = named(QDoubleSpinBox(), "drawBrushSpin", "Brush radius",
                                "How far from the cursor the points fall (share of the plane)")
        self.brush_spin.setRange(0.005, 0.2)
        self.brush_spin.setSingleStep(0.01)
        self.brush_spin.setDecimals(3)
        self.brush_spin.setValue(BRUSH_RADIUS)
        self.density_spin = named(QSpinBox(), "drawDensitySpin", "Points per dab",
                                  "Points sprayed each time the cursor moves")
        self.density_spin.setRange(1, 50)
        self.density_spin.setValue(POINTS_PER_DAB)
        self.undo_button = named(QPushButton("Undo"), "drawUndoButton", "Undo the last stroke")
        self.clear_button = named(QPushButton("Clear"), "drawClearButton", "Clear the drawing")
        self.count_label = caption_label("", "drawCountLabel", "Points drawn", wrap=True)
        brush_row = QHBoxLayout()
        brush_row.addWidget(QLabel("Brush"))
        brush_row.addWidget(self.brush_spin)
        brush_row.addWidget(QLabel("Dab"))
        brush_row.addWidget(self.density_spin)
        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot_widget)
        layout.addLayout(brush_row)
        layout.addLayout(buttons)
        layout.addWidget(self.count_label)
        self.undo_button.clicked.connect(self.undo)
        self.clear_button.clicked.connect(self.clear)
        self.strokes: list[np.ndarray] = []      # each (n, 2)
        self._current: list[np.ndarray] | None = None
        self._last: np.ndarray | None = None
        self._rng = np.random.default_rng(0)
        self._show()

    # -- the drawing ------------------------------------------------------------------------
    @property
    def n_points(self) -> int:
        return sum(len(s) for s in self.strokes) + sum(
            len(d) for d in (self._current or []))

    def begin_stroke(self, point: np.ndarray) -> None:
        """A press at ``point`` (data space): a new stroke, with its first dab."""
        self._current, self._last = [], None
        self._rng = np.random.default_rng([len(self.strokes), self.n_points])
        self.extend_stroke(point)

    def extend_stroke(self, point: np.ndarray) -> None:
        """The cursor at ``point`` while pressed: another dab once it moved far enough."""
        if self._current is None:
            return
        point = np.asarray(point, np.float64)
        lo, hi = DATA_EXTENT
        if not (lo <= point[0] <= hi and lo <= point[1] <= hi):
            return
        if self._last is not None and np.hypot(*(point - self._last)) < MIN_STEP:
            return
        room = MAX_POINTS - self.n_points
        if room <= 0:
            return
        self._current.append(spray(point, self.brush_spin.value(),
                                   min(room, self.density_spin.value()), self._rng))
        self._last = point
        self._show()

    def end_stroke(self) -> None:
        """The release: the stroke joins the drawing (if it has points) and is announced."""
        if self._current is None:
            return
        if self._current:
            self.strokes.append(np.concatenate(self._current))
        self._current = None
        self._show()
        self.points_changed.emit(self.text())

    def undo(self) -> None:
        if self.strokes:
            self.strokes.pop()
            self._show()
            self.points_changed.emit(self.text())

    def clear(self) -> None:
        if self.strokes:
            self.strokes = []
            self._show()
            self.points_changed.emit(self.text())

    def text(self) -> str:
        """The drawing as ``data.points`` text."""
        if not self.strokes:
            return ""
        points = np.concatenate(self.strokes)
        labels = np.concatenate([np.full(len(s), k) for k, s in enumerate(self.strokes)])
        return encode_points(points, labels)

    def set_text(self, text: str) -> None:
        """Show the drawing ``text`` (a config's ``data.points``); nothing is announced."""
        try:
            points, strokes = decode_points(text or "")
        except ValueError:
            points, strokes = np.zeros((0, 2)), np.zeros(0, np.int64)
        self.strokes = [points[strokes == k] for k in np.unique(strokes)]
        self._current = None
        self._show()

    # -- showing ----------------------------------------------------------------------------
    def _show(self) -> None:
        parts = list(self.strokes) + ([np.concatenate(self._current)]
                                      if self._current else [])
        if parts:
            pts = np.concatenate(parts)
            brushes = [pg.mkBrush(LABEL_COLOURS[k % len(LABEL_COLOURS)])
                       for k, s in enumerate(parts) for _ in range(len(s))]
            self.scatter.setData(pos=pts, brush=brushes)
        else:
            self.scatter.clear()
        n = self.n_points
        strokes = len(self.strokes)
        if n == 0:
            words = "Press and drag on the plane to spray points: each drag is a stroke."
        elif n < MIN_POINTS:
            words = f"{n} points: draw at least {MIN_POINTS} to train."
        else:
            full = " (the most a drawing holds)" if n >= MAX_POINTS else ""
            words = (f"{n:,} points in {strokes} stroke{'s' if strokes != 1 else ''}{full}; "
                     "a share (10 % by default) is held out for validation.")
        self.count_label.setText(words)
        self.undo_button.setEnabled(bool(self.strokes))
        self.clear_button.setEnabled(bool(self.strokes))
