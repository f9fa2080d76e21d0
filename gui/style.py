"""Colours and pyqtgraph settings shared by every panel.

pyqtgraph is configured once, here, before any plot exists: images are
row-major (``array[row, col]`` like numpy and the engine's ``(C, H, W)``),
and plots use a light background so screenshots read well in documents as
well as on screen. Antialiasing is off by default: it made the latent map
and the loss plot four times slower to paint (15 ms -> 4 ms each on this
2-core machine) and blurs image pixels; the few items that need smooth
lines (loss curves, prior circles) turn it on for themselves.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False,
                    background="w", foreground="#303030")

#: Colours of the loss terms, in the objective's plotting order; they are
#: the Okabe–Ito palette, readable for the common colour-vision deficiencies.
TERM_COLOURS = {
    "total": "#000000",
    "recon": "#0072B2",
    "kl": "#D55E00",
    "elbo": "#009E73",
    "sparsity": "#CC79A7",
    "contractive": "#E69F00",
    # a GAN's two players, and an RBM's terms
    "generator": "#D55E00",
    "d_real": "#009E73",
    "d_fake": "#CC79A7",
    "free_energy": "#0072B2",
    "nll_exact": "#009E73",
    "nll_ais": "#009E73",
}
_EXTRA_COLOURS = ["#56B4E9", "#F0E442", "#999999", "#882255"]

#: Ten well-separated class colours (tab10), used for labels on the latent map.
LABEL_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

ERROR_STYLE = ("QLabel { color: #a40000; }")
BANNER_STYLES = {
    "error": "background:#fde2e1; color:#6b0000; border:1px solid #e0a8a6; border-radius:4px;",
    "info": "background:#e5f1fb; color:#0b3a5d; border:1px solid #a9cbe8; border-radius:4px;",
}


def term_colour(name: str, index: int = 0) -> str:
    """The colour of a loss term; unknown terms cycle through spare colours."""
    return TERM_COLOURS.get(name, _EXTRA_COLOURS[index % len(_EXTRA_COLOURS)])


def label_colour(label: int) -> QColor:
    """The colour of class ``label`` (cycles after ten classes)."""
    return QColor(LABEL_COLOURS[int(label) % len(LABEL_COLOURS)])


def cache_axes(plot: pg.PlotItem) -> None:
    """Keep each axis of ``plot`` as a picture that is redrawn only when the axis changes.

    pyqtgraph replays an axis's tick labels at every repaint of its plot, and
    that text drawing holds the GIL (which the training thread then waits for):
    it was 40 % of the loss plot's paint time while training.
    """
    for side in ("left", "bottom", "right", "top"):
        plot.getAxis(side).setCacheMode(QGraphicsItem.DeviceCoordinateCache)
