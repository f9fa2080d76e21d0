"""Posterior collapse beyond active units: I(x; z) under q beside the KL, over the epochs.

The mean KL of a VAE is the information its code carries about the image,
I(x; z), plus what the aggregate posterior q(z) still differs from the
prior, KL(q(z) ‖ p(z)) (Hoffman & Johnson's "ELBO surgery"). The curves show
both over the saved epochs — the KL summed over dimensions (``kl_per_dim``)
and He et al.'s (2019) estimate of I(x; z) on the map's validation images
(``mutual_information``) — with log M, the most the estimate can say with M
images, dashed. A code whose KL is large but whose I(x; z) is small is
spending its KL on matching the prior, not on the images; a collapsed one
has both near zero. The caption counts the active units at the shown epoch.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from engine.analysis.latent_usage import active_units
from gui.panels.code_view import CodeViewPanel, quiet_plot
from gui.panels.measure_reasons import encoder_reason
from gui.widgets.caption import caption_label
from gui.widgets.naming import named

MI_COLOUR, KL_COLOUR = "#0072B2", "#D55E00"
NOT_VARIATIONAL = ("I(x; z) under q needs a stochastic encoder q(z|x): this code is "
                   "deterministic (tick 'variational' to see it beside the KL).")


class MutualInformationPanel(CodeViewPanel):
    """I(x; z) and the KL over the epochs; active units at the shown epoch."""

    view_name = "mutual_information"
    object_name = "mutualInformation"
    title = "Mutual information I(x; z)"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot_widget = named(pg.PlotWidget(), "mutualInformationPlot",
                                 "Mutual information and KL over the epochs, in nats")
        p = self.plot_widget.getPlotItem()
        p.setTitle("I(x; z) under q and the KL, nats", size="9pt")
        p.setLabel("bottom", "epoch")
        p.setLabel("left", "nats")
        p.showGrid(x=True, y=True, alpha=0.2)
        quiet_plot(p)
        legend = p.addLegend(offset=(30, 4), labelTextSize="8pt")  # top left: the
        # y range leaves room above the curves (bottom right hid the I(x; z) curve; log M is
        # labelled at the right)
        legend.setBrush(pg.mkBrush(255, 255, 255, 200))
        self.kl_curve = p.plot(pen=pg.mkPen(KL_COLOUR, width=2), symbol="o", symbolSize=5,
                               symbolBrush=KL_COLOUR, symbolPen=None,
                               name="KL(q(z|x) ‖ p(z)), mean")
        self.mi_curve = p.plot(pen=pg.mkPen(MI_COLOUR, width=2), symbol="o", symbolSize=5,
                               symbolBrush=MI_COLOUR, symbolPen=None, name="I(x; z)")
        self.ceiling = pg.InfiniteLine(angle=0, pen=pg.mkPen("#999999", style=Qt.DotLine),
                                       label="log M", labelOpts={"position": 0.95,
                                                                 "color": "#777777"})
        p.addItem(self.ceiling, ignoreBounds=True)
        self.epoch_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#7a7a7a", style=Qt.DashLine))
        p.addItem(self.epoch_line, ignoreBounds=True)
        self.caption = caption_label("", "mutualInformationCaption",
                                     "Mutual information caption", wrap=True)
        self.body_layout.addWidget(self.plot_widget, 1)
        self.body_layout.addWidget(self.caption)
        self.values: dict[int, float] = {}

    # -- the view interface -------------------------------------------------------------
    def why_not(self, run) -> str:
        return encoder_reason(run, "I(x; z)")

    def draw(self, run, epoch, snapshot) -> None:
        a = snapshot.arrays
        if "mutual_information" not in a:
            self._say(NOT_VARIATIONAL if "kl_per_dim" not in a else
                      "This session was written before I(x; z) was measured: its snapshots "
                      "have no mutual_information (train the run again to see it).")
            return
        epochs, mis = run.arrays_over_epochs("mutual_information")
        kl_epochs, kls = run.arrays_over_epochs("kl_per_dim")
        self.values = {e: float(np.asarray(v)) for e, v in zip(epochs, mis)}
        self.mi_curve.setData(np.asarray(epochs, float), list(self.values.values()))
        kl_sums = [float(np.asarray(k, np.float64).sum()) for k in kls]
        self.kl_curve.setData(np.asarray(kl_epochs, float), kl_sums)
        # Room above the curves for the legend (top left), which would otherwise hide them.
        top = max([v for v in (*self.values.values(), *kl_sums) if np.isfinite(v)] or [1.0])
        self.mi_curve.getViewBox().setYRange(min(0.0, *self.values.values()), 1.8 * top,
                                              padding=0.02)
        m = len(a["map_latents"]) if "map_latents" in a else 0
        if m > 1:
            self.ceiling.setValue(math.log(m))
        self.epoch_line.setValue(epoch)
        mi = float(np.asarray(a["mutual_information"]))
        kl = float(np.asarray(a["kl_per_dim"], np.float64).sum()) if "kl_per_dim" in a else None
        act = active_units(np.asarray(a["map_latents"])) if "map_latents" in a else None
        # I(x; z) >= 0; at a collapsed code the estimate's noise can dip below 0: say 0
        parts = [f"epoch {epoch}: <b>I(x; z) = {max(mi, 0.0):.2f} nats</b>"]
        if kl is not None:
            parts.append(f"of a KL of {kl:.2f}: {max(kl - mi, 0.0):.2f} nats only match q(z) "
                         "to the prior")
        if act is not None:
            parts.append(f"{int(act.sum())} of {len(act)} dimensions active")
        self.caption.setText(
            ", ".join(parts) + f". He et al. (2019) on the map's {m} validation images; it "
            f"cannot exceed log {m} = {math.log(max(m, 2)):.2f} nats and reads low within "
            "about 2 nats of it.")

    def reset_plots(self) -> None:
        self.mi_curve.clear()
        self.kl_curve.clear()
        self.values = {}
