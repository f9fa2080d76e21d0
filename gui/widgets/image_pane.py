"""A pyqtgraph view that shows one image at a fixed aspect, with a title."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QPainter

import gui.style  # noqa: F401  (row-major images)


class ImagePane(pg.GraphicsLayoutWidget):
    """Shows a grey (H, W) or colour (H, W, 3) image in [0, 1], scaled to fit.

    The view does not pan or zoom: these panes display, they are not
    canvases. ``painted`` fires after the image item has been drawn, which
    the latency benchmark uses to time "moved -> on screen".

    Parameters
    ----------
    title : text above the image, or None.
    colormap : a pyqtgraph colour map name for grey images (e.g. ``'inferno'``
        for error maps), or None for plain grey.
    levels : display range; ``(0, 1)`` for images in [0, 1].
    """

    painted = Signal()

    def __init__(self, title: str | None = None, colormap: str | None = None,
                 levels: tuple[float, float] | None = (0.0, 1.0), parent=None):
        super().__init__(parent=parent)
        self.ci.setContentsMargins(2, 2, 2, 2)
        if title:
            self.title_label = self.addLabel(title, row=0, col=0, size="9pt")
        self.view = self.addViewBox(row=1, col=0, lockAspect=True, enableMouse=False,
                                    invertY=True, enableMenu=False)
        self.view.setDefaultPadding(0.0)
        self.image_item = _PaintReportingImage(self.painted.emit)
        if colormap:
            self.image_item.setColorMap(pg.colormap.get(colormap))
        self.view.addItem(self.image_item)
        self._levels = levels
        self._shape: tuple[int, ...] | None = None

    def set_image(self, image: np.ndarray | None) -> None:
        """Show ``image`` ((H, W) or (H, W, 3)); None clears the pane."""
        if image is None:
            self.image_item.clear()
            self._shape = None
            return
        kwargs = {"levels": self._levels} if self._levels is not None else {"autoLevels": True}
        self.image_item.setImage(image, **kwargs)
        if image.shape != self._shape:  # refit only when the size changes: cheaper, no jumps
            self._shape = image.shape
            self.view.autoRange(padding=0.0)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        # Fitted once per image size only, a pane that later grew or shrank kept its old
        # range: a grid's last row fell outside the view.
        if getattr(self, "_shape", None) is not None:   # (resized while being built, too)
            self.view.autoRange(padding=0.0)

    def set_title(self, text: str) -> None:
        if hasattr(self, "title_label"):
            self.title_label.setText(text, size="9pt")


class _PaintReportingImage(pg.ImageItem):
    """An ImageItem that calls ``on_paint`` after each paint."""

    def __init__(self, on_paint):
        super().__init__()
        self._on_paint = on_paint

    def paint(self, painter, *args):
        # Drawn smaller than its pixels (a grid of 64x64 images in a small pane), nearest-
        # neighbour scaling drops whole rows: the 1-px gaps between tiles came and went.
        # Filtering then keeps every row; enlarged images (digits) stay crisp pixels.
        t = painter.transform()
        shrunk = min(abs(t.m11()) + abs(t.m21()), abs(t.m22()) + abs(t.m12())) < 1.0
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, shrunk)
        super().paint(painter, *args)
        self._on_paint()
