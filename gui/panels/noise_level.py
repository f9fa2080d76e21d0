"""Denoising, live: corrupt the probe images at any level and see what the model makes of them.

A slider sets the corruption level and a combo its kind; the probe images are
corrupted with :func:`engine.analysis.noise_probe.corrupt_at` (a fixed seed, so
the same level always gives the same noise) and reconstructed by the shown
epoch's CPU copy (:meth:`~gui.run.state.RunState.cpu_model`), on the GUI thread,
never touching the training model. Moves of the slider are coalesced: however
fast it is dragged, one reconstruction per pass of the event loop. The curve
beside shows the error to the clean images against the level, where the
denoiser breaks.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider

from engine.analysis.noise_probe import corrupt_at
from engine.tiles import tile, to_display
from gui.panels.code_view import (CodeViewPanel, autoencoder_reason, epoch_words,
                                  images_reason, quiet_plot)
from gui.widgets.caption import caption_label
from gui.widgets.image_pane import ImagePane
from gui.widgets.naming import named

KINDS = {"gaussian": "Gaussian noise (std)", "masking": "masking (share of pixels)",
         "salt_pepper": "salt and pepper (share of pixels)"}
SHOWN = 8                    # probe images corrupted and reconstructed
STEPS = 100                  # slider positions: level = position / STEPS
CURVE_LEVELS = np.linspace(0.0, 1.0, 11)


def reconstruct(model, x: np.ndarray) -> np.ndarray:
    """The mean reconstruction of ``x`` (N, C, H, W) by a CPU copy."""
    with torch.inference_mode():
        return model.reconstruct(torch.as_tensor(x, dtype=torch.float32)).numpy()


def corrupt(x: np.ndarray, kind: str, level: float) -> np.ndarray:
    """:func:`corrupt_at` of numpy images, as numpy."""
    out = corrupt_at(torch.as_tensor(x, dtype=torch.float32), kind, level, seed=0)
    return out.numpy() if isinstance(out, torch.Tensor) else np.asarray(out, np.float32)


class NoiseLevelPanel(CodeViewPanel):
    """A noise-level slider and corruption combo applied live to the probe images."""

    view_name = "noise_level"
    object_name = "noiseLevel"
    title = "Noise level"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.kind_combo = named(QComboBox(), "corruptionKindCombo", "Corruption type")
        for kind, text in KINDS.items():
            self.kind_combo.addItem(text, kind)
        self.slider = named(QSlider(Qt.Horizontal), "noiseLevelSlider", "Corruption level",
                            "Drag to corrupt the probe images more or less")
        self.slider.setRange(0, STEPS)
        self.slider.setValue(30)
        self.level_label = named(QLabel("0.30"), "noiseLevelValue", "Corruption level value")
        self.level_label.setMinimumWidth(36)
        self.pane = named(ImagePane(), "noiseImages",
                          "Clean, corrupted and reconstructed probe images")
        self.pane.setMinimumSize(240, 110)
        self.curve_widget = named(pg.PlotWidget(), "noiseErrorPlot",
                                  "Reconstruction error against the corruption level")
        plot = self.curve_widget.getPlotItem()
        plot.setTitle("error to the clean images", size="9pt")
        plot.setLabel("bottom", "level")
        plot.setLabel("left", "squared error / pixel")
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        quiet_plot(plot)
        self.error_curve = plot.plot(pen=pg.mkPen("#0072B2", width=2), symbol="o",
                                     symbolSize=5, symbolBrush="#0072B2", symbolPen=None)
        self.noisy_curve = plot.plot(pen=pg.mkPen("#999999", width=1, style=Qt.DashLine))
        self.level_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#d00000"))
        plot.addItem(self.level_line, ignoreBounds=True)
        legend = plot.addLegend(offset=(4, 4), labelTextSize="8pt",
                                brush=pg.mkBrush(255, 255, 255, 200))
        legend.addItem(self.error_curve, "reconstruction")
        legend.addItem(self.noisy_curve, "corrupted input")
        self.caption = caption_label("", "noiseLevelCaption", "Noise level caption", wrap=True)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Corruption"))
        controls.addWidget(self.kind_combo)
        controls.addWidget(QLabel("level"))
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.level_label)
        row = QHBoxLayout()
        row.addWidget(self.pane, 3)
        row.addWidget(self.curve_widget, 2)
        self.body_layout.addLayout(controls)
        self.body_layout.addLayout(row, 1)
        self.body_layout.addWidget(self.caption)
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self.apply)
        self.slider.valueChanged.connect(self._on_level)
        self.kind_combo.currentIndexChanged.connect(lambda _i: self._schedule(curve=True))
        self.model = None
        self.clean: np.ndarray | None = None
        self.noisy: np.ndarray | None = None
        self.recon: np.ndarray | None = None
        self.cost_s = 0.0          # the last apply's time (reported, never asserted)
        self.applied = 0           # how many times the probe images were reconstructed
        self._curve_due = True

    # -- controls -----------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.kind_combo.currentData()

    @property
    def level(self) -> float:
        return self.slider.value() / STEPS

    def set_corruption(self, kind: str, level: float) -> None:
        """Choose the corruption (as a user would); applied at the next pass of the loop."""
        self.kind_combo.setCurrentIndex(max(0, self.kind_combo.findData(kind)))
        self.slider.setValue(int(round(level * STEPS)))

    def _on_level(self, _value: int) -> None:
        self.level_label.setText(f"{self.level:.2f}")
        self.level_line.setValue(self.level)
        self._schedule()

    def _schedule(self, curve: bool = False) -> None:
        self._curve_due = self._curve_due or curve
        if self.model is not None:
            self._timer.start()

    # -- the view interface -------------------------------------------------------------
    def why_not(self, run) -> str:
        return autoencoder_reason(run, "The noise slider") or images_reason(
            run, "The noise slider")

    def prepare(self, run) -> None:
        o = run.config.objective
        if o.corruption != "none":   # a denoising run: start where it was trained
            self.set_corruption(o.corruption, o.corruption_level)
        self.clean = np.asarray(run.data.probe_images[:SHOWN], np.float32)

    def draw(self, run, epoch, snapshot) -> None:
        self.model = run.cpu_model(epoch)
        self.weights_words = run.weights_note(epoch)   # when the epoch kept no weights
        if self.model is None or "encoder" in getattr(self.model, "missing_parts", ()):
            self.model = None
            self._say("This epoch's snapshot holds no encoder (a session written before the "
                      "noise slider): nothing to reconstruct with.")
            return
        self._curve_due = True
        self.apply()

    def reset_plots(self) -> None:
        self._timer.stop()
        self.model = self.noisy = self.recon = None
        self.pane.set_image(None)
        self.error_curve.clear()
        self.noisy_curve.clear()

    # -- the work -------------------------------------------------------------------------
    def apply(self) -> None:
        """Corrupt the probe images at the chosen level and reconstruct them (now)."""
        self._timer.stop()
        if self.model is None or self.clean is None:
            return
        t0 = time.perf_counter()
        self.applied += 1
        kind, level = self.kind, self.level
        self.noisy = corrupt(self.clean, kind, level)
        self.recon = reconstruct(self.model, self.noisy)
        rows = np.concatenate([self.clean, self.noisy, self.recon])
        self.pane.set_image(tile(to_display(rows), len(self.clean), pad=1))
        if self._curve_due:
            self._draw_curve(kind)
        err = float(np.mean((self.recon - self.clean) ** 2))
        self.cost_s = time.perf_counter() - t0
        where = epoch_words(self.epoch, self.weights_words)
        self.caption.setText(f"{where}rows: clean, corrupted ({KINDS[kind]} {level:.2f}), "
                             f"reconstructed · error to the clean images {err:.4f} per pixel")

    def _draw_curve(self, kind: str) -> None:
        """Error against the level (11 levels, one batch): where the denoiser breaks."""
        self._curve_due = False
        x = np.concatenate([corrupt(self.clean, kind, float(v)) for v in CURVE_LEVELS])
        recon = reconstruct(self.model, x).reshape(len(CURVE_LEVELS), *self.clean.shape)
        noisy = x.reshape(len(CURVE_LEVELS), *self.clean.shape)
        axes = tuple(range(1, recon.ndim))
        self.error_curve.setData(CURVE_LEVELS, ((recon - self.clean) ** 2).mean(axis=axes))
        self.noisy_curve.setData(CURVE_LEVELS, ((noisy - self.clean) ** 2).mean(axis=axes))
        self.level_line.setValue(self.level)
