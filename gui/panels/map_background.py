"""What lies behind the latent map's points for a VAE: the decoded manifold and the prior.

:class:`MapBackground` is a mixin of
:class:`~gui.panels.latent_explorer.LatentExplorerPanel`: behind the codes, a grid of
images decoded across the map (the manifold the decoder learned) and the 1/2/3-sigma
circles of the prior N(0, I), both only for a family with a prior
(``ModelTraits.prior_samples``). The panel owns the map, its projection, the decoder
and :meth:`map_extent`; this draws from them.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from engine.tiles import tile, to_display
from gui.panels.latent_projection import grid_points

MANIFOLD_GRID = 12      # decoded images per side of the background manifold


class MapBackground:
    """The manifold image and the prior's circles behind a latent map (see the module docstring)."""

    def _build_background(self) -> None:
        self.manifold_item = pg.ImageItem()
        self.manifold_item.setOpacity(0.4)   # the coloured points must stay readable on top
        self.manifold_item.setZValue(-20)
        self.plot.addItem(self.manifold_item, ignoreBounds=True)
        self.prior_items = [pg.PlotCurveItem(pen=pg.mkPen("#555555", width=1, style=Qt.DashLine),
                                             antialias=True)
                            for _ in range(3)]
        for item in self.prior_items:
            item.setZValue(-10)
            self.plot.addItem(item, ignoreBounds=True)

    def _redraw_prior(self, *_args) -> None:
        show = (self.prior_check.isChecked() and self.config is not None
                and self.traits.prior_samples and self.projection is not None
                and self.projection.latent_dim > 1)
        t = np.linspace(0, 2 * np.pi, 120)
        for r, item in enumerate(self.prior_items, start=1):
            if show:
                c = self.projection.prior_centre()
                item.setData(c[0] + r * np.cos(t), c[1] + r * np.sin(t))
            else:
                item.clear()

    def _redraw_manifold(self, *_args) -> None:
        show = (self.manifold_check.isEnabled() and self.manifold_check.isChecked()
                and self.decoder is not None
                and self.config is not None and self.traits.prior_samples
                and self.projection is not None and self.projection.latent_dim > 1)
        if not show:
            self.manifold_item.clear()
            return
        (x0, x1), (y0, y1) = self.map_extent()
        # Square cells, so the decoded images are not stretched.
        side = max(x1 - x0, y1 - y0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        x0, x1, y0, y1 = cx - side / 2, cx + side / 2, cy - side / 2, cy + side / 2
        codes = self.projection.to_latent(grid_points((x0, x1), (y0, y1), MANIFOLD_GRID))
        images = to_display(self.decoder.decode(codes))
        mosaic = tile(images, MANIFOLD_GRID, pad=0)
        # Row 0 of the mosaic is the top of the map; the plot's y axis points up.
        self.manifold_item.setImage(mosaic[::-1], levels=(0.0, 1.0))
        self.manifold_item.setRect(x0, y0, x1 - x0, y1 - y0)
