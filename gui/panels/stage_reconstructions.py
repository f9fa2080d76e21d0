"""Reconstructions during greedy pretraining: each stage's own input, and the whole stack.

Stage 1 reconstructs images, like any run. Stage k >= 2 reconstructs the
*codes* of stage k - 1 — each probe image's code vector is drawn as a small
tile, one grey cell per unit — and below them the same probe images go
through the whole stack so far (encode with stages 1..k, decode back with
k..1), so a stage's effect on real images stays visible. The end-to-end
pass is an ordinary autoencoder on images again. While a job is on display the panel
follows the run model (:mod:`gui.run.following`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

import gui.style  # noqa: F401  (row-major images)
from engine.tiles import to_display
from gui.run.following import FollowsModel
from gui.panels.mosaic import MosaicRow, code_levels, codes_as_tiles, row_mosaic
from gui.widgets.caption import caption_label
from gui.widgets.naming import named
from gui.widgets.titled_image_view import add_titled_image_view

SECTION_GAP = 8
IDLE_TEXT = "Greedy pretraining: each stage's reconstructions appear after its first epoch."


@dataclass
class StageView:
    """What one epoch of one stage shows.

    Attributes
    ----------
    stage, n_stages : which stage (n_stages + 1 is the end-to-end pass).
    title : e.g. ``"stage 2 (256→64, denoising)"``.
    code_input : True when the stage's "images" are codes ``(P, 1, 1, D)``.
    clean : (P, C, H, W) the stage's clean input (its probe images).
    noisy : (P, C, H, W) its corrupted input, or None when not denoising.
    recon : (P, C, H, W) its reconstruction.
    stack : (P, C, H, W) images through stages 1..k, or None.
    epoch : the epoch within the stage.
    """

    stage: int
    title: str
    code_input: bool
    clean: np.ndarray
    noisy: np.ndarray | None
    recon: np.ndarray
    stack: np.ndarray | None
    epoch: int


class StageReconstructionsPanel(FollowsModel, QWidget):
    """Probe images, a stage's reconstructions of its own input, and through the stack."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "stageReconstructionsPanel", "Stage reconstructions")
        self.graphics = named(pg.GraphicsLayoutWidget(), "stageReconstructionsView",
                              "Each stage's reconstructions of its own input and of the "
                              "images through the whole stack")
        self.axis, self.view, self.image_item = add_titled_image_view(self.graphics)
        self.count_spin = named(QSpinBox(), "stageReconCountSpin", "Probe images shown",
                                "How many probe images to show for each stage")
        self.count_spin.setRange(2, 24)
        self.count_spin.setValue(8)   # 8 columns keep five rows tall enough for their titles
        self.caption = caption_label(IDLE_TEXT, "stageReconstructionsCaption",
                                     "Stage reconstructions caption")
        controls = QHBoxLayout()
        controls.addWidget(self.caption, 1)
        controls.addWidget(QLabel("Images"))
        controls.addWidget(self.count_spin)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.graphics, 1)
        self.originals: np.ndarray | None = None
        self.current: StageView | None = None
        self.rows: list[str] = []
        self._shape: tuple[int, ...] | None = None
        self.count_spin.valueChanged.connect(self._redraw)

    # -- data in ------------------------------------------------------------------
    def begin(self, originals: np.ndarray) -> None:
        """A new pretraining run: its probe images (P, C, H, W), shown until the first epoch."""
        self.originals = np.asarray(originals, np.float32)
        self.current = None
        self._redraw()

    def show_view(self, view: StageView | None) -> None:
        """Show one stage at one epoch (None: the probe images only)."""
        self.current = view
        self._redraw()

    def clear(self) -> None:
        self.originals = self.current = None
        self.rows = []
        self.image_item.clear()
        self.caption.setText(IDLE_TEXT)

    # -- following the run model --------------------------------------------------
    def on_reset(self) -> None:
        self.clear()

    def on_run_added(self, run) -> None:
        model = self.run_model
        if run.is_classifier or not model.shows_stages:
            return
        if run.stored is None or run.run_id == model.training_runs()[0].run_id:
            self.begin(model.pixel_probes())

    def on_position(self, run, epoch: int) -> None:
        if not self.run_model.shows_stages:
            return
        snap = run.snapshot(epoch)
        stage = run.plan.role == "stage"
        denoising = run.config.objective.corruption != "none"
        self.show_view(StageView(
            stage=int(run.plan.meta.get("stage", 0)), title=run.plan.title,
            code_input=stage and int(run.plan.meta.get("stage", 1)) > 1,
            clean=run.data.probe_images,
            noisy=snap.images.get("probe_inputs") if denoising else None,
            recon=snap.images["probe_recon"], stack=snap.images.get("stack_recon"),
            epoch=epoch))

    # -- drawing ------------------------------------------------------------------
    def _image_rows(self, images: np.ndarray, n: int) -> np.ndarray:
        shown = to_display(images[:n])
        return shown if shown.ndim == 3 else shown.mean(axis=-1)  # colour: grey here

    def _mosaic_rows(self, n: int) -> list[MosaicRow]:
        v = self.current
        if v is None:
            return [MosaicRow("original", self._image_rows(self.originals, n))]
        rows: list[MosaicRow] = []
        if v.code_input:
            levels = code_levels(v.clean[:n])
            size = self.originals.shape[-1] if self.originals is not None else 28
            tiles = lambda a: codes_as_tiles(a[:n], levels, size)  # noqa: E731
            rows.append(MosaicRow(f"stage {v.stage} input", tiles(v.clean)))
            if v.noisy is not None:
                rows.append(MosaicRow("noisy input", tiles(v.noisy)))
            rows.append(MosaicRow(f"stage {v.stage} output", tiles(v.recon)))
            if v.stack is not None and self.originals is not None:
                rows.append(MosaicRow("original", self._image_rows(self.originals, n),
                                      SECTION_GAP))
                rows.append(MosaicRow(f"through stages 1–{v.stage}",
                                      self._image_rows(v.stack, n)))
        else:
            rows.append(MosaicRow("original", self._image_rows(v.clean, n)))
            if v.noisy is not None:
                rows.append(MosaicRow("noisy input", self._image_rows(v.noisy, n)))
            rows.append(MosaicRow("reconstructed", self._image_rows(v.recon, n)))
        return rows

    def _redraw(self) -> None:
        if self.originals is None and self.current is None:
            return
        source = self.current.clean if self.current is not None else self.originals
        n = min(self.count_spin.value(), len(source))
        rows = self._mosaic_rows(n)
        mosaic, centres = row_mosaic(rows)
        self.image_item.setImage(mosaic, levels=(0.0, 1.0))
        self.rows = [r.title for r in rows]
        self.axis.setTicks([[(y, title) for y, title in centres]])
        if mosaic.shape != self._shape:
            self._shape = mosaic.shape
            self.view.autoRange(padding=0.01)
        v = self.current
        if v is None:
            self.caption.setText("Probe images (each stage's reconstructions appear after "
                                 "its first epoch)")
        else:
            what = ": codes as tiles" if v.code_input else ""
            self.caption.setText(f"{v.title}, epoch {v.epoch}{what}")
            self.caption.setToolTip("Each code vector is drawn as a small tile, one grey cell "
                                    "per unit (black 0, white 1)" if v.code_input else "")
