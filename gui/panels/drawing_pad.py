"""Draw a digit: a pad drawn with the mouse, encoded and reconstructed by the current model.

The pad is the data's own size (28×28 for MNIST) drawn large; a stroke paints
soft ink. The drawing is encoded on the shown epoch's CPU copy
(``encode_mean``, :meth:`~gui.run.state.RunState.cpu_model`) and reconstructed
beside it; its code goes out as :attr:`DrawingPadPanel.code_changed`, which
the binder puts on the latent maps as a marker. When a new epoch is shown the
same drawing is encoded again, so it follows the model as training proceeds.
Encoding is coalesced: a stroke's many mouse moves cost one encoding per pass
of the event loop.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from engine.tiles import to_display
from gui.panels.code_view import (CodeViewPanel, autoencoder_reason, epoch_words,
                                   images_reason)
from gui.panels.map_markers import code_words
from gui.widgets.caption import caption_label
from gui.widgets.image_pane import ImagePane
from gui.widgets.naming import named

CELL = 8            # screen pixels per image pixel (28 -> 224)
BRUSH_RADIUS = 1.2  # image pixels: the pen's soft radius


class DrawingCanvas(QWidget):
    """An (H, W) image in [0, 1] painted with the mouse (white ink on black).

    Signals
    -------
    changed() : the drawing changed (a stroke moved, or it was cleared).
    """

    changed = Signal()

    def __init__(self, shape: tuple[int, int] = (28, 28), parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "drawingCanvas", "Drawing pad: draw with the mouse")
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setCursor(Qt.CrossCursor)
        self.image = np.zeros(shape, np.float32)
        self._last: QPointF | None = None

    def set_shape(self, shape: tuple[int, int]) -> None:
        self.image = np.zeros(shape, np.float32)
        self.setMinimumSize(self.image.shape[1] * 5, self.image.shape[0] * 5)
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        h, w = self.image.shape
        return QSize(w * CELL, h * CELL)

    def clear(self) -> None:
        self.image[:] = 0
        self.update()
        self.changed.emit()

    # -- geometry -------------------------------------------------------------------------
    def _cell(self) -> tuple[float, float, float]:
        """Side of one image pixel on screen, and the square's top-left corner."""
        h, w = self.image.shape
        side = min(self.width() / w, self.height() / h)
        return side, (self.width() - side * w) / 2, (self.height() - side * h) / 2

    def to_image(self, pos: QPointF) -> tuple[float, float]:
        """A widget point -> (row, col) in image pixels (continuous)."""
        side, x0, y0 = self._cell()
        return (pos.y() - y0) / side, (pos.x() - x0) / side

    # -- painting ink -----------------------------------------------------------------------
    def stroke(self, points: list[tuple[float, float]]) -> None:
        """Paint ink along (row, col) points (image pixels), as a drag would."""
        for (r0, c0), (r1, c1) in zip(points, points[1:] or points):
            n = max(1, int(np.ceil(np.hypot(r1 - r0, c1 - c0) * 2)))
            for t in np.linspace(0.0, 1.0, n + 1):
                self._dab(r0 + t * (r1 - r0), c0 + t * (c1 - c0))
        self.update()
        self.changed.emit()

    def _dab(self, r: float, c: float) -> None:
        h, w = self.image.shape
        rows, cols = np.mgrid[0:h, 0:w]
        d2 = (rows + 0.5 - r) ** 2 + (cols + 0.5 - c) ** 2
        ink = np.clip(1.5 - np.sqrt(d2) / BRUSH_RADIUS, 0.0, 1.0)
        np.maximum(self.image, ink.astype(np.float32), out=self.image)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.LeftButton:
            self._last = event.position()
            self.stroke([self.to_image(self._last)])

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._last is not None and event.buttons() & Qt.LeftButton:
            pos = event.position()
            self.stroke([self.to_image(self._last), self.to_image(pos)])
            self._last = pos

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self._last = None

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#f0f0f0"))
        side, x0, y0 = self._cell()
        h, w = self.image.shape
        for r in range(h):
            for c in range(w):
                v = int(round(255 * float(self.image[r, c])))
                p.fillRect(QRectF(x0 + c * side, y0 + r * side, side + 0.5, side + 0.5),
                           QColor(v, v, v))
        p.setPen(QColor("#909090"))
        p.drawRect(QRectF(x0, y0, side * w - 1, side * h - 1))
        p.end()


class DrawingPadPanel(CodeViewPanel):
    """The pad, Clear, the reconstruction of the drawing and its code.

    Signals
    -------
    code_changed(object) : the drawing's code (D,) float32 under the shown model, or None.
    """

    view_name = "drawing_pad"
    object_name = "drawingPad"
    title = "Draw a digit"
    code_changed = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.canvas = DrawingCanvas()
        self.clear_button = named(QPushButton("Clear"), "clearDrawingButton",
                                  "Clear the drawing")
        self.clear_button.clicked.connect(self.canvas.clear)
        self.recon_pane = named(ImagePane("its reconstruction"), "drawingReconstruction",
                                "The drawing's reconstruction")
        self.recon_pane.setMinimumSize(120, 120)
        self.caption = caption_label("Draw with the mouse (left button).", "drawingCaption",
                                     "Drawing caption", wrap=True)
        left = QVBoxLayout()
        left.addWidget(self.canvas, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        left.addLayout(buttons)
        row = QHBoxLayout()
        row.addLayout(left, 3)
        row.addWidget(self.recon_pane, 2)
        self.body_layout.addLayout(row, 1)
        self.body_layout.addWidget(self.caption)
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self.encode)
        self.canvas.changed.connect(self._timer.start)
        self.model = None
        self.channels = 1
        self.code: np.ndarray | None = None
        self.recon: np.ndarray | None = None
        self.cost_s = 0.0
        self.encoded = 0           # how many times the drawing was encoded

    # -- the view interface -------------------------------------------------------------
    def follows_off_screen(self) -> bool:
        # A drawing follows the model even off screen: its marker is on the Training tab's
        # map too (one encoding, a fraction of a millisecond).
        return bool(self.canvas.image.any())

    def why_not(self, run) -> str:
        return (autoencoder_reason(run, "The drawing pad")
                or images_reason(run, "The drawing pad"))

    def prepare(self, run) -> None:
        c, h, w = run.data.image_shape
        self.channels = c
        if self.canvas.image.shape != (h, w):
            self.canvas.set_shape((h, w))

    def draw(self, run, epoch, snapshot) -> None:
        self.model = run.cpu_model(epoch)
        self.weights_words = run.weights_note(epoch)   # when the epoch kept no weights
        if self.model is None or "encoder" in getattr(self.model, "missing_parts", ()):
            self._say("This epoch's snapshot holds no encoder (a session written before "
                      "the drawing pad): nothing to encode the drawing with.")
            self.model = None
            return
        self.encode()

    def reset_plots(self) -> None:
        self._timer.stop()
        self.model = self.code = self.recon = None
        self.recon_pane.set_image(None)
        self.code_changed.emit(None)

    # -- the work -------------------------------------------------------------------------
    def drawing(self) -> np.ndarray:
        """The drawing as the model's input, (1, C, H, W) float32 in [0, 1]."""
        x = self.canvas.image[None, None]
        return np.repeat(x, self.channels, axis=1).astype(np.float32)

    def encode(self) -> None:
        """Encode and reconstruct the drawing with the shown epoch's CPU copy (now)."""
        self._timer.stop()
        if self.model is None:
            return
        if not self.canvas.image.any():
            self.code = self.recon = None
            self.recon_pane.set_image(None)
            self.caption.setText("Draw with the mouse (left button): the drawing is encoded "
                                 "and its code marked on the latent map.")
            self.code_changed.emit(None)
            return
        t0 = time.perf_counter()
        self.encoded += 1
        x = torch.from_numpy(self.drawing())
        with torch.inference_mode():
            self.code = self.model.encode_mean(x).numpy()[0].astype(np.float32)
            self.recon = self.model.reconstruct(x).numpy()
        self.recon_pane.set_image(to_display(self.recon)[0])
        self.cost_s = time.perf_counter() - t0
        self.caption.setText(f"{epoch_words(self.epoch, self.weights_words)}"
                             f"{code_words(self.code)} — the ◆ on the latent map")
        self.code_changed.emit(self.code)
