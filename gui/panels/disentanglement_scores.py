"""Disentanglement on known factors: MIG, DCI and the FactorVAE score over the epochs, and the
factor × dimension matrix at the shown epoch.

Left, each score at every scored epoch (``disentanglement``; the trainer
scores the first epoch, every few epochs and the last, the epochs between
carry NaN — :mod:`engine.analysis.epoch_measures`); right, at the shown epoch
or the scored one before it, how much each latent dimension tells of each
factor: I(z_d; v_k) / H(v_k), the matrix behind MIG (``factor_code_mi``), or
the DCI regressor's importance (``dci_importance``). A disentangled code is
one bright cell per row.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from engine.analysis.epoch_measures import SCORE_EVERY, SCORE_WORDS, SCORES
from gui.panels.code_view import CodeViewPanel, quiet_plot
from gui.panels.measure_reasons import factors_reason
from gui.widgets.caption import caption_label
from gui.widgets.naming import named

#: Okabe–Ito colours, one per score (SCORES' order).
SCORE_COLOURS = ("#D55E00", "#0072B2", "#56B4E9", "#009E73", "#CC79A7")
MATRICES = {"factor_code_mi": "I(z_d; v_k) / H(v_k), MIG's matrix",
            "dci_importance": "DCI importance of z_d for v_k"}


class DisentanglementScoresPanel(CodeViewPanel):
    """The scores over the epochs and the factor × dimension matrix (see the module doc)."""

    view_name = "disentanglement_scores"
    object_name = "disentanglementScores"
    title = "Disentanglement scores"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.scores_widget = named(pg.PlotWidget(), "disentanglementOverEpochs",
                                   "Disentanglement scores over the epochs")
        sp = self.scores_widget.getPlotItem()
        sp.setTitle("scores over the epochs", size="9pt")
        sp.setLabel("bottom", "epoch")
        sp.setYRange(0, 1.02, padding=0)
        sp.showGrid(x=True, y=True, alpha=0.2)
        quiet_plot(sp)
        legend = sp.addLegend(offset=(-4, 4), labelTextSize="8pt", colCount=2)
        self.curves = {k: sp.plot(pen=pg.mkPen(c, width=2), symbol="o", symbolSize=5,
                                  symbolBrush=c, symbolPen=None, name=SCORE_WORDS[k])
                       for k, c in zip(SCORES, SCORE_COLOURS)}
        legend.setBrush(pg.mkBrush(255, 255, 255, 200))
        self.epoch_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#7a7a7a", style=Qt.DashLine))
        sp.addItem(self.epoch_line, ignoreBounds=True)
        self.matrix_box = named(QComboBox(), "disentanglementMatrixChoice",
                                "Which factor by dimension matrix to show")
        for key, words in MATRICES.items():
            self.matrix_box.addItem(words, key)
        self.matrix_widget = named(pg.PlotWidget(), "disentanglementMatrix",
                                   "Factor by latent dimension matrix at the shown epoch")
        mp = self.matrix_widget.getPlotItem()
        mp.setLabel("bottom", "latent dimension")
        mp.invertY(True)
        quiet_plot(mp)
        self.matrix_item = pg.ImageItem(axisOrder="row-major")
        self.matrix_item.setColorMap(pg.colormap.get("viridis"))
        mp.addItem(self.matrix_item)
        self.caption = caption_label("", "disentanglementCaption", "Disentanglement caption",
                                     wrap=True)
        self.body_layout.addWidget(self.scores_widget, 1)
        self.body_layout.addWidget(self.matrix_box)
        self.body_layout.addWidget(self.matrix_widget, 1)
        self.body_layout.addWidget(self.caption)
        self.matrix: np.ndarray | None = None      # (F, D) as drawn
        self.scores: dict[str, float] | None = None
        self.matrix_box.currentIndexChanged.connect(self._redraw)

    # -- the view interface -------------------------------------------------------------
    def why_not(self, run) -> str:
        return factors_reason(run, "Disentanglement")

    def draw(self, run, epoch, snapshot) -> None:
        epochs, rows = run.arrays_over_epochs("disentanglement")
        if not epochs:
            self._say("This run's snapshots hold no disentanglement scores (a session "
                      "written before they existed, or too few validation images to score): "
                      "train it again to see them.")
            return
        values = np.array([np.asarray(r, np.float64) for r in rows]).reshape(len(epochs), -1)
        scored = np.all(np.isfinite(values), axis=1)
        xs = np.asarray(epochs, float)[scored]
        for i, key in enumerate(SCORES):
            self.curves[key].setData(xs, values[scored, i])
        self.epoch_line.setValue(epoch)
        before = [e for e, ok in zip(epochs, scored) if ok and e <= epoch]
        if not before:
            self.matrix_item.clear()
            self.matrix = self.scores = None
            self.caption.setText(f"epoch {epoch}: not scored yet (the scores are computed at "
                                 f"epoch 1, every {SCORE_EVERY} epochs and the last).")
            return
        at = before[-1]
        arrays = snapshot.arrays if at == epoch else run.snapshot(at).arrays
        self.scores = dict(zip(SCORES, values[epochs.index(at)]))
        self._draw_matrix(run, arrays)
        where = f"epoch {epoch}" if at == epoch else f"epoch {epoch} (scores of epoch {at})"
        s = self.scores
        n = len(run.data.map_factors)
        self.caption.setText(
            f"{where}: <b>MIG {s['mig']:.2f}</b> · DCI disentanglement "
            f"{s['dci_disentanglement']:.2f}, completeness {s['dci_completeness']:.2f}, "
            f"informativeness {s['dci_informativeness']:.2f} · FactorVAE {s['factor_vae']:.2f}"
            f" — on the map's {n} validation images, scored at epoch 1, every {SCORE_EVERY} "
            f"epochs and the last (tens of ms each).")

    def reset_plots(self) -> None:
        for c in self.curves.values():
            c.clear()
        self.matrix_item.clear()
        self.matrix = self.scores = None

    # -- drawing ----------------------------------------------------------------------------
    def _draw_matrix(self, run, arrays) -> None:
        key = self.matrix_box.currentData() or "factor_code_mi"
        if key not in arrays:
            self.matrix_item.clear()
            self.matrix = None
            return
        m = np.asarray(arrays[key], np.float64)
        m = m.T if key == "dci_importance" else m          # (F, D) on screen
        self.matrix = m
        # One colour scale for every epoch and both matrices (each is a share, 0 to 1).
        self.matrix_item.setImage(np.nan_to_num(m), levels=(0.0, 1.0))
        names = list(run.data.factor_names) or [f"v{k + 1}" for k in range(m.shape[0])]
        plot = self.matrix_widget.getPlotItem()
        plot.getAxis("left").setTicks([[(k + 0.5, n) for k, n in enumerate(names)]])
        d = m.shape[1]
        every = max(1, -(-d // 12))
        plot.getAxis("bottom").setTicks([[(j + 0.5, f"z{j + 1}") for j in range(0, d, every)]])
        plot.setRange(xRange=(0, d), yRange=(0, m.shape[0]), padding=0)
        plot.setTitle(f"{MATRICES[key]}: dark 0, yellow 1", size="9pt")

    def _redraw(self, *_args) -> None:
        if self.run is not None and self.epoch is not None and self.applies:
            self.show_epoch(self.run, self.epoch)
