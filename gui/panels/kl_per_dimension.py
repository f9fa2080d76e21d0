"""KL per latent dimension, sorted: the VAE's tension between the KL and the reconstruction.

"The KL divergence wants to stretch the points out to the standard normal, but
in practice it will stretch certain dimensions out": ``kl_per_dim`` (D,) is the
mean KL(q(z_d|x) ‖ N(0, 1)) over the validation images, in nats, drawn as bars
from the largest down. A dimension is *active* (Burda, Grosse & Salakhutdinov
2016) when the variance over images of its mean code, Cov_x(E_q[z_d]), exceeds
0.01 (:func:`engine.analysis.latent_usage.active_units` on ``map_latents``);
collapsed dimensions are drawn grey. A larger beta pushes more of them there.
Panels that sit side by side (the compare window's columns) share a y range
(:meth:`set_y_max`) so their bars compare.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from engine.analysis.latent_usage import ACTIVE_THRESHOLD, active_units, kl_sorted
from gui.panels.code_view import CodeViewPanel, autoencoder_reason, quiet_plot
from gui.widgets.caption import caption_label
from gui.widgets.naming import named

COLLAPSED = "#b8b8b8"
NOT_VARIATIONAL = ("KL per dimension is a VAE's: a deterministic code has no prior to "
                   "compare with (tick 'variational').")


class KlPerDimensionPanel(CodeViewPanel):
    """Sorted bars of ``kl_per_dim`` at one epoch, active units coloured, or why none."""

    view_name = "kl_per_dimension"
    object_name = "klPerDimension"
    title = "KL per latent dimension"
    needs = ("kl_per_dim",)

    def __init__(self, colour: str = "#D55E00", parent=None):
        super().__init__(parent)
        self.colour = colour
        self.plot_widget = named(pg.PlotWidget(), "klPerDimensionPlot",
                                 "KL per latent dimension, in nats, sorted")
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setLabel("left", "KL (nats)")
        self.plot.setLabel("bottom", "latent dimension, largest KL first")
        self.plot.showGrid(y=True, alpha=0.2)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        quiet_plot(self.plot)
        self.bars: pg.BarGraphItem | None = None
        self.caption = caption_label("", "klPerDimensionCaption", "KL per dimension caption",
                                     wrap=True)
        self.body_layout.addWidget(self.plot_widget, 1)
        self.body_layout.addWidget(self.caption)
        self.values: np.ndarray | None = None
        self.order: np.ndarray | None = None
        self.active: np.ndarray | None = None

    # -- the view interface -------------------------------------------------------------
    def why_not(self, run) -> str:
        why = autoencoder_reason(run, "KL per dimension")
        if why:
            return why
        return "" if run.config.model.variational else NOT_VARIATIONAL

    def draw(self, run, epoch, snapshot) -> None:
        a = snapshot.arrays
        self.show_values(a["kl_per_dim"], active=None if "map_latents" not in a
                         else active_units(np.asarray(a["map_latents"], np.float64)),
                         epoch=epoch)

    def reset_plots(self) -> None:
        if self.bars is not None:
            self.plot.removeItem(self.bars)
            self.bars = None
        self.values = self.order = self.active = None

    # -- drawing (the compare window calls this directly) -------------------------------
    def show_values(self, kl: np.ndarray | None, why_not: str = "",
                    active: np.ndarray | None = None, epoch: int | None = None) -> None:
        """Draw ``kl`` (D,) sorted, ``active`` (D,) bool coloured (None: all coloured), or
        when ``kl`` is None say ``why_not``."""
        self.reset_plots()
        if kl is None:
            self._say(why_not)
            return
        self.values = np.asarray(kl, np.float64)
        order, sorted_kl = kl_sorted(self.values)
        self.order = np.asarray(order)
        self.active = None if active is None else np.asarray(active, bool)
        d = len(self.values)
        flags = np.ones(d, bool) if self.active is None else self.active[self.order]
        brushes = [pg.mkBrush(self.colour if f else COLLAPSED) for f in flags]
        self.bars = pg.BarGraphItem(x=np.arange(1, d + 1), height=np.asarray(sorted_kl),
                                    width=0.8, brushes=brushes, pen=None)
        self.plot.addItem(self.bars)
        self.plot.setXRange(0.4, d + 0.6, padding=0)
        every = max(1, -(-d // 12))   # at most a dozen labels: z7, z2, …
        self.plot.getAxis("bottom").setTicks(
            [[(k + 1, f"z{int(self.order[k]) + 1}") for k in range(0, d, every)]])
        where = f"epoch {epoch}: " if epoch is not None else ""
        total = f"total KL {self.values.sum():.3g} nats"
        if self.active is None:
            self.caption.setText(f"{where}{total}")
        else:
            n = int(self.active.sum())
            self.caption.setText(
                f"{where}<b>{n} of {d} dimensions active</b> (variance of the mean code "
                f"over images &gt; {ACTIVE_THRESHOLD:g}); grey: collapsed to the prior · "
                f"{total}")
        self._stack.setCurrentWidget(self.body)

    @property
    def active_count(self) -> int | None:
        return None if self.active is None else int(self.active.sum())

    def set_y_max(self, top: float) -> None:
        self.plot.setYRange(0, max(float(top), 1e-3) * 1.05, padding=0)
