"""Reconstructions pinned from the latent map, kept beside it while epochs change."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

from engine.decoding import LatentDecoder
from engine.tiles import tile, to_display
from gui.widgets.image_pane import ImagePane
from gui.widgets.naming import named

MAX_PINS = 8
#: Short: in a compare window's column of three the pane is about 170 pixels wide, and
#: "pinned (double-click the map)" was cut off at "the ma"
EMPTY_TITLE = "double-click to pin"


@dataclass
class PinnedPoint:
    """A reconstruction pinned from the map."""

    index: int | None       # row of the snapshot's map_latents; None: a place on the map
    code: np.ndarray        # (D,) its code at the displayed epoch (a place keeps its code)
    image: np.ndarray       # display image of the decoded code
    label: str


class PinnedReconstructions(QWidget):
    """Up to :data:`MAX_PINS` decoded map points, oldest dropped first.

    Signals
    -------
    changed() : pins were added, re-decoded or cleared (the map redraws its stars).
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.pane = named(ImagePane(EMPTY_TITLE), "pinnedImages", "Pinned reconstructions")
        self.pane.setMinimumHeight(44)
        self.clear_button = named(QPushButton("Clear pins"), "clearPinsButton",
                                  "Clear pinned reconstructions")
        self.clear_button.clicked.connect(self.clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pane, 1)
        layout.addWidget(self.clear_button, 0, Qt.AlignRight)
        self.pins: list[PinnedPoint] = []

    def add(self, index: int | None, code: np.ndarray, decoder: LatentDecoder,
            label: str) -> PinnedPoint:
        """Pin map point ``index`` (None: the place on the map whose code is ``code``):
        decode its full code (not its projection)."""
        pin = PinnedPoint(index=index, code=code,
                          image=to_display(decoder.decode(code[None]))[0], label=label)
        self.pins = (self.pins + [pin])[-MAX_PINS:]
        self._show()
        return pin

    def refresh(self, codes: np.ndarray, decoder: LatentDecoder) -> None:
        """Another epoch: the same points, with that epoch's codes and decoder."""
        if not self.pins:
            return
        for pin in self.pins:
            if pin.index is not None:   # a validation image: its code at this epoch
                pin.code = codes[pin.index]
        images = to_display(decoder.decode(np.stack([p.code for p in self.pins])))
        for pin, image in zip(self.pins, images):
            pin.image = image
        self._show()

    def codes(self) -> np.ndarray | None:
        """(K, D) the pinned codes, or None."""
        return np.stack([p.code for p in self.pins]) if self.pins else None

    def clear(self) -> None:
        self.pins = []
        self._show()

    def _show(self) -> None:
        if not self.pins:
            self.pane.set_image(None)
            self.pane.set_title(EMPTY_TITLE)
        else:
            images = np.stack([p.image for p in self.pins])
            self.pane.set_image(tile(images, MAX_PINS // 2, pad=1))
            self.pane.set_title("pinned: " + " ".join(p.label for p in self.pins))
        self.changed.emit()
