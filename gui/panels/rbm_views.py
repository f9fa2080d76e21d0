"""An RBM's own views: its stochastic encoder p(h|v) and decoder p(v|h), and Gibbs chains.

"Stochastic encoders and decoders — this is what we saw in RBM" (lecture
notes). :class:`StochasticCodesPanel` follows one probe image through both
conditionals: v, the probabilities p(h_j = 1 | v) (one cell per hidden
unit), one binary h drawn from them, and the mean of p(v | h) — draw again
and the reconstruction changes. :class:`GibbsChainsPanel` runs a few chains
v -> h -> v -> ... forward while you watch, on a CPU copy of the displayed
epoch's weights (never the training thread's).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)

from engine.data.toy2d import is_point_data
from engine.tiles import tile, to_display
from gui.widgets.caption import caption_label
from gui.widgets.image_pane import ImagePane
from gui.widgets.naming import named

CHAINS = 16              # image chains shown
POINT_CHAINS = 200       # 2-D point chains (drawn in data space)
FRAME_MS = 120


def unit_grid(values: np.ndarray) -> np.ndarray:
    """(H,) values in [0, 1] as the squarest (rows, cols) grid, empty cells white."""
    n = len(values)
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / cols)
    out = np.ones(rows * cols, np.float32)
    out[:n] = values
    return out.reshape(rows, cols)


class StochasticCodesPanel(QWidget):
    """v -> p(h|v) -> h -> E[v|h] for one probe image."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "stochasticCodesPanel", "Stochastic encoder and decoder")
        self.index_spin = named(QSpinBox(), "stochasticProbeSpin", "Probe image",
                                "Which probe image goes through the RBM")
        self.index_spin.setRange(1, 1)
        self.draw_button = named(QPushButton("Draw h again"), "drawHiddenButton",
                                 "Draw another hidden state",
                                 "Another sample h ~ p(h|v): the decoder's image changes")
        self.panes = {
            "v": named(ImagePane("v"), "stochasticInput", "The visible units v"),
            "p": named(ImagePane("p(h=1|v)", colormap="viridis"), "hiddenProbabilities",
                       "The encoder: each hidden unit's probability of being on"),
            "h": named(ImagePane("h ~ p(h|v)"), "hiddenSample", "A binary hidden state"),
            "recon": named(ImagePane("E[v|h]"), "stochasticReconstruction",
                           "The decoder's mean for that hidden state"),
        }
        self.caption = caption_label("The encoder and decoder appear after the first epoch.",
                                     "stochasticCaption", "Stochastic codes caption", wrap=True)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Probe image"))
        controls.addWidget(self.index_spin)
        controls.addStretch(1)
        controls.addWidget(self.draw_button)
        panes = QHBoxLayout()
        for pane in self.panes.values():
            pane.setMinimumSize(70, 70)
            panes.addWidget(pane)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addLayout(panes, 1)
        layout.addWidget(self.caption)
        self.model = None
        self.probes: np.ndarray | None = None
        self.epoch: int | None = None
        self._generator = torch.Generator().manual_seed(0)
        self.index_spin.valueChanged.connect(self._draw)
        self.draw_button.clicked.connect(self._draw)

    def set_run(self, probe_images: np.ndarray) -> None:
        self.probes = np.asarray(probe_images, np.float32)
        self.index_spin.setRange(1, len(self.probes))
        self.model = None
        for pane in self.panes.values():
            pane.set_image(None)
        self.caption.setText("The encoder and decoder appear after the first epoch.")

    def show_model(self, model, epoch: int) -> None:
        """Use this CPU copy of an RBM (the displayed epoch's weights)."""
        self.model, self.epoch = model, epoch
        self._draw()

    def _draw(self, *_args) -> None:
        if self.model is None or self.probes is None:
            return
        m = self.model.machine
        v = torch.from_numpy(self.probes[self.index_spin.value() - 1]).reshape(1, -1)
        with torch.inference_mode():
            p = m.hidden_probs(v)
            h = torch.bernoulli(p, generator=self._generator)
            mean = m.visible_mean(h)
        shape = self.probes.shape[1:]
        points = is_point_data(shape)
        for key in ("v", "recon"):  # a 2-D point is no picture: its numbers are in the caption
            self.panes[key].setVisible(not points)
        if not points:
            self.panes["v"].set_image(to_display(v.numpy().reshape(1, *shape))[0])
            self.panes["recon"].set_image(
                to_display(mean.clamp(0, 1).numpy().reshape(1, *shape))[0])
        self.panes["p"].set_image(unit_grid(p.numpy()[0]))
        self.panes["h"].set_image(unit_grid(h.numpy()[0]))
        on = int(h.sum())
        text = (f"epoch {self.epoch}: {on} of {len(h[0])} hidden units on; p(h|v) = "
                f"sigmoid(W v + c) is the encoder, p(v|h) the decoder — a new draw of h, a new "
                "reconstruction")
        if points:
            text = (f"v = ({v[0, 0]:.3f}, {v[0, 1]:.3f}) → E[v|h] = ({mean[0, 0]:.3f}, "
                    f"{mean[0, 1]:.3f}); " + text)
        self.caption.setText(text)


class GibbsChainsPanel(QWidget):
    """A few Gibbs chains v -> h -> v run forward on a timer.

    Signals
    -------
    points_changed(object) : the chains' states (N, 2) for 2-D point data (drawn in
        data space), or None when they are cleared.
    """

    points_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "gibbsChainsPanel", "Gibbs chains")
        self.play_button = named(QPushButton("▶ Run"), "runChainsButton", "Run the Gibbs chains",
                                 "Run the chains forward, one sweep v→h→v per frame")
        self.play_button.setCheckable(True)
        self.reset_button = named(QPushButton("Restart"), "restartChainsButton",
                                  "Restart the chains", "Start again from the probe images")
        self.sweeps_spin = named(QSpinBox(), "sweepsPerFrameSpin", "Sweeps per frame")
        self.sweeps_spin.setRange(1, 100)
        self.pane = named(ImagePane(), "gibbsChainImages", "The chains' current images")
        self.caption = caption_label("Gibbs chains run on the displayed epoch's weights once "
                                     "there is one.", "gibbsCaption", "Gibbs chains caption",
                                     wrap=True)
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.reset_button)
        controls.addWidget(QLabel("sweeps/frame"))
        controls.addWidget(self.sweeps_spin)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.pane, 1)
        layout.addWidget(self.caption)
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self.step)
        self.play_button.toggled.connect(self._on_play)
        self.reset_button.clicked.connect(self.restart)
        self.model = None
        self.probes: np.ndarray | None = None
        self.state: torch.Tensor | None = None
        self.sweeps = 0
        self._generator = torch.Generator().manual_seed(1)

    @property
    def points(self) -> bool:
        return self.probes is not None and is_point_data(self.probes.shape[1:])

    def set_run(self, probe_images: np.ndarray) -> None:
        self.play_button.setChecked(False)
        self.probes = np.asarray(probe_images, np.float32)
        self.model, self.state = None, None
        self.pane.setVisible(not self.points)
        self.pane.set_image(None)
        self.points_changed.emit(None)

    def show_model(self, model) -> None:
        """New weights (another epoch): the chains go on from where they are.

        Chains of 2-D points start when Run is pressed (drawn over data space,
        they would hide the epoch's own points until then).
        """
        self.model = model
        if self.state is None and not self.points:
            self.restart()
        elif self.state is None:
            self.caption.setText(f"Press Run: {POINT_CHAINS} chains start at uniform random "
                                 "points and move v→h→v as red dots in data space.")
        else:
            self._show()

    def restart(self) -> None:
        if self.model is None or self.probes is None:
            return
        if self.points:  # uniform starts: the chains find the density by themselves
            self.state = torch.rand((POINT_CHAINS, 2), generator=self._generator)
        else:
            self.state = torch.from_numpy(self.probes[:CHAINS].reshape(
                min(CHAINS, len(self.probes)), -1)).clone()
        self.sweeps = 0
        self._show()

    def step(self) -> None:
        """Sweeps of the chains (what the timer calls)."""
        if self.model is None or self.state is None:
            return
        with torch.inference_mode():
            self.state = self.model.machine.gibbs(self.state, self.sweeps_spin.value(),
                                                  self._generator)
        self.sweeps += self.sweeps_spin.value()
        self._show()

    def _show(self) -> None:
        m = self.model.machine
        if self.points:
            self.points_changed.emit(self.state.numpy())
            where = "the red dots in data space"
        else:
            with torch.inference_mode():
                mean = m.visible_mean(m.sample_hidden(self.state, self._generator))
            shape = self.probes.shape[1:]
            images = to_display(mean.clamp(0, 1).numpy().reshape(-1, *shape))
            self.pane.set_image(tile(images, 4, pad=1))
            where = "E[v|h] of each chain's latest h"
        start = "uniform random points" if self.points else "the probe images"
        self.caption.setText(f"{len(self.state)} chains from {start}, {self.sweeps} sweeps "
                             f"v→h→v: {where}. Long chains show what the RBM believes in.")

    def _on_play(self, on: bool) -> None:
        self.play_button.setText("❚❚ Pause" if on else "▶ Run")
        if on:
            if self.state is None:
                self.restart()
            self.timer.start()
        else:
            self.timer.stop()
