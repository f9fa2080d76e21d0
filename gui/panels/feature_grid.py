"""First-layer features: each hidden unit's input weights as a picture.

"What did the pretrained layer learn?" Unit i of an MLP's first layer
responds to ``W[i] · x``; drawn as an image the size of the input, ``W[i]``
shows the stroke or blob the unit looks for. Each unit is normalised on its
own (weights differ in scale from unit to unit); on the diverging map white
is zero weight, red positive and blue negative.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSpinBox,
                               QVBoxLayout, QWidget)

from gui.panels.mosaic import feature_tiles
from gui.widgets.image_pane import ImagePane
from gui.widgets.caption import caption_label
from gui.widgets.naming import named

#: Blue - white - red, light in the middle so zero weights recede.
DIVERGING_MAP = "CET-D1A"
COLOURINGS = [("diverging (blue − / red +)", "diverging"), ("grey (per unit min–max)", "grey")]
DEFAULT_UNITS = 64
NO_FEATURES = "First-layer features appear after stage 1 of a pretraining run, or for any " \
              "MLP run once it has weights."


class FeatureGridPanel(QWidget):
    """A grid of first-layer features with a unit count and a colouring choice.

    Parameters
    ----------
    prefix : starts the object names, so two grids in one window stay distinct
        (e.g. ``"pretrain"`` -> ``pretrainFeatureGrid``).
    """

    def __init__(self, prefix: str, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, f"{prefix}FeatureGridPanel", "First-layer features")
        self.pane = named(ImagePane(), f"{prefix}FeatureGrid",
                          "First-layer features: each unit's input weights as a picture")
        self.count_spin = named(QSpinBox(), f"{prefix}FeatureCountSpin", "Units shown",
                                "How many first-layer units to show")
        self.count_spin.setRange(1, 1)
        self.colour_combo = named(QComboBox(), f"{prefix}FeatureColourCombo",
                                  "Feature colouring", "How the weights are coloured")
        for text, data in COLOURINGS:
            self.colour_combo.addItem(text, data)
        self.caption = caption_label(NO_FEATURES, f"{prefix}FeatureCaption",
                                     "First-layer features caption", wrap=True)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Units"))
        controls.addWidget(self.count_spin)
        controls.addWidget(self.colour_combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.caption)
        layout.addWidget(self.pane, 1)
        self.features: np.ndarray | None = None
        self.image: np.ndarray | None = None
        self._colormap = pg.colormap.get(DIVERGING_MAP)
        self.count_spin.valueChanged.connect(self._draw)
        self.colour_combo.currentIndexChanged.connect(self._draw)
        self.set_features(None)

    @property
    def showing(self) -> bool:
        """Whether features are drawn (Export figure offers them then)."""
        return self.features is not None

    def set_features(self, features: np.ndarray | None, caption: str = "") -> None:
        """Show ``features`` (units, C, H, W) raw weights; None clears the grid.

        The unit count keeps the user's choice when the unit number stays the same.
        """
        self.features = None if features is None else np.asarray(features, np.float32)
        units = 0 if self.features is None else len(self.features)
        keep = self.count_spin.maximum() == units and units > 0
        self.count_spin.blockSignals(True)
        self.count_spin.setRange(1, max(1, units))
        if not keep:
            self.count_spin.setValue(min(DEFAULT_UNITS, max(1, units)))
        self.count_spin.blockSignals(False)
        self.count_spin.setEnabled(units > 0)
        self.colour_combo.setEnabled(units > 0)
        self.caption.setText(caption if self.features is not None else (caption or NO_FEATURES))
        self._draw()

    def _draw(self, *_args) -> None:
        if self.features is None:
            self.image = None
            self.pane.set_image(None)
            return
        diverging = self.colour_combo.currentData() == "diverging"
        self.image = feature_tiles(self.features, self.count_spin.value(),
                                   self._colormap if diverging else None)
        self.pane.set_image(self.image)
