"""A GAN's view where an autoencoder's reconstructions would be: what its discriminator sees.

A GAN has no encoder, so there is nothing to reconstruct; saying so is the
point, and the room shows what the GAN does have instead: real validation
images beside generated ones, and how real the discriminator finds each
(D(x) and D(g(z)) as two histograms on [0, 1]).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from engine.events import DatasetInfo, EpochSnapshot
from engine.tiles import tile, to_display
from gui.widgets.caption import caption_label
from gui.widgets.image_pane import ImagePane
from gui.widgets.naming import named

SHOWN = 16           # images of each kind, 4 x 4
REAL_COLOUR, FAKE_COLOUR = (44, 160, 44), (148, 103, 189)
BINS = np.linspace(0.0, 1.0, 21)


class DiscriminatorViewPanel(QWidget):
    """Real and generated images side by side, with the discriminator's verdicts."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "discriminatorViewPanel", "The discriminator's view")
        self.note = caption_label("", "noReconstructionsNote", "Why there are no reconstructions",
                                  wrap=True)
        self.note.setTextFormat(Qt.RichText)
        self.real_pane = named(ImagePane("real images"), "discriminatorRealImages",
                               "Real validation images")
        self.fake_pane = named(ImagePane("generated g(z)"), "discriminatorFakeImages",
                               "Generated images")
        self.hist_widget = named(pg.PlotWidget(), "discriminatorHistogram",
                                 "How real the discriminator finds real and generated images")
        self.hist = self.hist_widget.getPlotItem()
        self.hist.setLabel("bottom", "D(·), probability of 'real'")
        self.hist.setLabel("left", "share")
        self.hist.setXRange(0, 1, padding=0.02)
        self.hist.setYRange(0, 1, padding=0.02)
        self.hist.setMouseEnabled(False, False)
        self.hist.hideButtons()
        self.hist_widget.setMinimumSize(160, 120)
        self.real_curve = self.hist.plot([0, 1], [0], stepMode="center", fillLevel=0,
                                         brush=(*REAL_COLOUR, 90),
                                         pen=pg.mkPen(REAL_COLOUR, width=2))
        self.fake_curve = self.hist.plot([0, 1], [0], stepMode="center", fillLevel=0,
                                         brush=(*FAKE_COLOUR, 90),
                                         pen=pg.mkPen(FAKE_COLOUR, width=2))
        self.summary = caption_label(" ", "discriminatorSummary", "Discriminator summary",
                                     wrap=True)
        self.summary.setTextFormat(Qt.RichText)
        row = QHBoxLayout()
        row.addWidget(self.real_pane, 2)
        row.addWidget(self.fake_pane, 2)
        row.addWidget(self.hist_widget, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addLayout(row, 1)
        layout.addWidget(self.summary)
        self.data: DatasetInfo | None = None

    def set_run(self, data: DatasetInfo, note: str) -> None:
        self.data = data
        self.note.setText(f"<b>No reconstructions:</b> {note} Instead, real images beside "
                          "generated ones, and what the discriminator makes of each.")
        self.real_pane.set_image(tile(to_display(data.probe_images[:SHOWN]), 4, pad=1))
        self.clear()

    def clear(self) -> None:
        self.fake_pane.set_image(None)
        for curve in (self.real_curve, self.fake_curve):
            curve.setData([0, 1], [0])
        self.summary.setText("The generator's images appear after the first epoch.")

    def show_snapshot(self, snapshot: EpochSnapshot) -> None:
        samples = snapshot.images.get("samples")
        if samples is not None:
            self.fake_pane.set_image(tile(to_display(samples[:SHOWN]), 4, pad=1))
        real = np.asarray(snapshot.arrays.get("probe_d_real", []), np.float64)
        fake = np.asarray(snapshot.arrays.get("sample_d_fake", []), np.float64)
        for curve, values in ((self.real_curve, real), (self.fake_curve, fake)):
            counts, _ = np.histogram(values, BINS)
            curve.setData(BINS, counts / max(1, len(values)))
        if len(real) and len(fake):
            sq = '<span style="color:rgb{};font-size:13pt">■</span>'
            self.summary.setText(
                f"epoch {snapshot.epoch}: {sq.format(REAL_COLOUR)} mean D(x) = "
                f"{real.mean():.2f} on real images, {sq.format(FAKE_COLOUR)} D(g(z)) = "
                f"{fake.mean():.2f} on generated ones (0.5 each: it cannot tell them apart)")
