"""An image in a locked-aspect view with row titles on a left axis (for image grids)."""

from __future__ import annotations

import pyqtgraph as pg


def add_titled_image_view(graphics: pg.GraphicsLayoutWidget
                          ) -> tuple[pg.AxisItem, pg.ViewBox, pg.ImageItem]:
    """Fill ``graphics`` with a left axis (tick labels = row titles), a view and an image.

    Returns
    -------
    (axis, view, image_item): set row titles with ``axis.setTicks``, the grid
    with ``image_item.setImage``.
    """
    graphics.ci.setContentsMargins(0, 0, 0, 0)
    axis = pg.AxisItem("left")
    view = pg.ViewBox(lockAspect=True, enableMouse=False, invertY=True, enableMenu=False)
    view.setDefaultPadding(0.01)
    axis.linkToView(view)
    # No tick marks or axis line: the labels alone name the rows.
    axis.setStyle(tickLength=0)
    axis.setPen(pg.mkPen(None))
    axis.setTextPen("#303030")
    graphics.ci.addItem(axis, row=0, col=0)
    graphics.ci.addItem(view, row=0, col=1)
    image_item = pg.ImageItem()
    view.addItem(image_item)
    return axis, view, image_item
