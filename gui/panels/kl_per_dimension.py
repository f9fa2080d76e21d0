"""KL per latent dimension: how much each code unit carries, as bars (a VAE's snapshot array).

``kl_per_dim`` (D,) is the mean KL(q(z_d|x) ‖ N(0, 1)) over the validation
images, in nats. Units near zero are unused (posterior collapse); a larger
beta pushes more of them there. Panels that sit side by side share a
y range (:meth:`set_y_max`) so their bars compare.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gui.style import cache_axes
from gui.widgets.caption import caption_label
from gui.widgets.naming import named

ACTIVE = 0.1   # nats: a dimension above this carries information (a common threshold)


class KlPerDimensionPanel(QWidget):
    """Bars of ``kl_per_dim`` at one epoch, or a sentence saying why there are none."""

    def __init__(self, colour: str = "#D55E00", parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "klPerDimensionPanel", "KL per latent dimension")
        self.colour = colour
        self.plot_widget = named(pg.PlotWidget(), "klPerDimensionPlot",
                                 "KL per latent dimension, in nats")
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setLabel("left", "KL (nats)")
        self.plot.setLabel("bottom", "latent dimension")
        self.plot.showGrid(y=True, alpha=0.2)
        self.plot.setMouseEnabled(x=False, y=False)
        cache_axes(self.plot)
        self.bars: pg.BarGraphItem | None = None
        self.caption = caption_label("", "klPerDimensionCaption", "KL per dimension caption")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.caption)
        self.values: np.ndarray | None = None

    def show_values(self, kl: np.ndarray | None, why_not: str = "") -> None:
        """Draw ``kl`` (D,) or, when None, say ``why_not``."""
        if self.bars is not None:
            self.plot.removeItem(self.bars)
            self.bars = None
        self.values = None if kl is None else np.asarray(kl, np.float64)
        if self.values is None:
            self.caption.setText(why_not)
            return
        d = len(self.values)
        self.bars = pg.BarGraphItem(x=np.arange(1, d + 1), height=self.values, width=0.8,
                                    brush=self.colour, pen=None)
        self.plot.addItem(self.bars)
        self.plot.setXRange(0.4, d + 0.6, padding=0)
        every = max(1, -(-d // 12))   # whole dimensions only, at most a dozen labels
        self.plot.getAxis("bottom").setTicks([[(k, str(k)) for k in range(1, d + 1, every)]])
        active = int((self.values > ACTIVE).sum())
        self.caption.setText(f"{active} of {d} dimensions active (KL > {ACTIVE} nats); "
                             f"total {self.values.sum():.3g} nats")

    def set_y_max(self, top: float) -> None:
        self.plot.setYRange(0, max(float(top), 1e-3) * 1.05, padding=0)
