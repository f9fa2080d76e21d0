"""Latent explorer: the codes as a map, and a marker that decodes as it moves.

The map shows ``EpochSnapshot.arrays["map_latents"]`` (validation images) through a
:class:`~gui.panels.latent_projection.LatentProjection`: the code itself for a
2-D latent, else a chosen pair of dimensions or PCA, with the other
coordinates held at the codes' mean or at zero. Dragging the marker
decodes on the GUI thread with the panel's own CPU
:class:`~engine.decoding.LatentDecoder` — a copy made from the snapshot, so
it never waits for training. For a VAE the background can show the
decoded manifold and the prior's 1/2/3-sigma circles. Double-click a point
to pin its reconstruction beside the map, or anywhere else on the map to pin
the image decoded there (the marker and pins: :mod:`gui.panels.map_markers`). On the
Training tab the panel follows the run model (:mod:`gui.run.following`).

A family without an encoder (a GAN: :class:`~engine.models.ModelTraits`)
has no codes of data: its map shows the snapshot's prior samples z,
coloured by how real the discriminator finds g(z), and says so.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel,
                               QPushButton, QSpinBox, QSplitter, QVBoxLayout, QWidget)

from engine.config import RunConfig
from engine.data.toy2d import is_point_data
from engine.decoding import LatentDecoder
from engine.events import DatasetInfo, EpochSnapshot
from engine.models import ModelTraits, family_class
from gui.panels.latent_projection import LatentProjection, dims_projection, pca_projection
from gui.panels.latent_colouring import PointColouring
from gui.panels.map_background import MapBackground
from gui.panels.map_markers import MapMarkers
from gui.panels.pinned_reconstructions import PinnedReconstructions
from gui.run.following import FollowsModel
from gui.widgets.caption import caption_label
from gui.widgets.elided_label import ElidedLabel
from gui.widgets.image_pane import ImagePane
from gui.widgets.naming import named
from gui.widgets.placeholder import Placeholder

#: The colouring of a map of prior samples (no encoder), by the snapshot's array.
SCORE_COLOURINGS = {"D(g(z))": "map_d_fake"}


class LatentExplorerPanel(MapBackground, MapMarkers, FollowsModel, QWidget):
    """The latent map, the draggable decoding marker and the pinned reconstructions.

    The marker, the pins and the extra marker are :class:`~gui.panels.map_markers.MapMarkers`',
    a VAE's manifold and prior circles :class:`~gui.panels.map_background.MapBackground`'s.
    """

    decoded = Signal()          # a new decoded image is in the pane (before painting)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "latentExplorerPanel", "Latent explorer")
        self._build_controls()
        self._build_map()
        self.decoded_pane = named(ImagePane("decoded at marker"), "decodedImage",
                                  "Image decoded at the marker")
        # Small enough that the readout under it keeps its line when the window is short
        # (a message strip shown at 1366x768): a layout squeezed below its widgets' minimums
        # draws them over each other.
        self.decoded_pane.setMinimumSize(110, 76)
        # One line, shortened to fit: wrapped, a 20-d code read "(20 / dims)]" and pushed
        # the decoded image over it.
        self.coords_label = named(ElidedLabel(" "), "markerCoordinates", "Marker coordinates")
        self.coords_label.setStyleSheet("color:#444; font-family: monospace;")
        # A session keeps weights at some epochs only: say so where the decoding shows.
        self.weights_label = caption_label("", "decoderWeightsEpoch",
                                           "Which epoch's weights decode here", wrap=True)
        self.weights_label.hide()
        self.pinned = PinnedReconstructions()
        self.pinned.changed.connect(self._refresh_pin_markers)
        self.pins_pane = self.pinned.pane

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.decoded_pane, 3)
        side_layout.addWidget(self.coords_label)
        side_layout.addWidget(self.weights_label)
        side_layout.addWidget(self.pinned, 1)
        map_box = QWidget()
        map_layout = QVBoxLayout(map_box)
        map_layout.setContentsMargins(0, 0, 0, 0)
        map_layout.addWidget(self.map_widget, 1)
        map_layout.addWidget(self.legend_label)
        self.splitter = named(QSplitter(Qt.Horizontal), "explorerSplitter", "Map and decoded image")
        self.splitter.addWidget(map_box)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.controls)
        layout.addWidget(self.splitter, 1)

        self.config: RunConfig | None = None
        self.data: DatasetInfo | None = None
        self.snapshot: EpochSnapshot | None = None
        self.decoder: LatentDecoder | None = None
        self.projection: LatentProjection | None = None
        self.colouring = PointColouring()
        self.traits = ModelTraits(encoder=True)
        self.decoded_image: np.ndarray | None = None
        self._marker_placed = False
        self.placeholder = Placeholder(self.map_widget, "latentMapPlaceholder")
        self._clear_map()

    # -- construction ---------------------------------------------------------------
    def _build_controls(self) -> None:
        self.projection_combo = named(QComboBox(), "projectionCombo", "Map projection",
                                      "How codes with more than two dimensions become a map")
        self.dim_x_spin = named(QSpinBox(), "mapDimXSpin", "Map x dimension")
        self.dim_y_spin = named(QSpinBox(), "mapDimYSpin", "Map y dimension")
        self.hold_combo = named(QComboBox(), "holdCombo", "Other coordinates held at",
                                "Value of the latent coordinates that are not on the map")
        self.hold_combo.addItems(["mean of codes", "zero (prior mean)"])
        self.colour_combo = named(QComboBox(), "colourByCombo", "Colour points by")
        self.manifold_check = named(QCheckBox("Manifold"), "manifoldCheck",
                                    "Show decoded manifold",
                                    "Decode a grid of points behind the map (VAE)")
        self.manifold_check.setChecked(True)
        self.prior_check = named(QCheckBox("Prior"), "priorContoursCheck",
                                 "Show prior contours", "1, 2 and 3 sigma circles of N(0, I)")
        self.prior_check.setChecked(True)
        self.fit_button = named(QPushButton("Fit"), "fitMapButton", "Fit the map",
                                "Zoom the map to the codes and the prior")
        self.fit_button.clicked.connect(self.fit_view)
        for combo in (self.projection_combo, self.hold_combo, self.colour_combo):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.controls = QVBoxLayout()
        self.controls.setContentsMargins(0, 0, 0, 0)
        self.controls.setSpacing(2)
        rows = [[QLabel("Map"), self.projection_combo, QLabel("x"), self.dim_x_spin,
                 QLabel("y"), self.dim_y_spin, QLabel("others at"), self.hold_combo],
                [QLabel("Colour by"), self.colour_combo, self.manifold_check, self.prior_check,
                 self.fit_button]]
        self.control_widgets = [w for row in rows for w in row]
        for row in rows:
            line = QHBoxLayout()
            for w in row:
                line.addWidget(w)
            line.addStretch(1)
            self.controls.addLayout(line)
        self.projection_combo.currentIndexChanged.connect(self._on_projection_changed)
        self.dim_x_spin.valueChanged.connect(self._on_projection_changed)
        self.dim_y_spin.valueChanged.connect(self._on_projection_changed)
        self.hold_combo.currentIndexChanged.connect(self._on_projection_changed)
        self.colour_combo.currentIndexChanged.connect(self._redraw_points)
        self.manifold_check.toggled.connect(self._redraw_manifold)
        self.prior_check.toggled.connect(self._redraw_prior)

    def _build_map(self) -> None:
        self.map_widget = named(pg.PlotWidget(), "latentMap",
                                "Latent map: drag the marker to decode")
        self.plot: pg.PlotItem = self.map_widget.getPlotItem()
        self.plot.setAspectLocked(True)
        self._build_background()
        self.scatter = pg.ScatterPlotItem(size=6, pen=None)
        self.scatter.sigClicked.connect(self._on_points_clicked)
        self.plot.addItem(self.scatter)
        self._build_markers()
        # The view follows the codes epoch by epoch until the user pans or zooms.
        self._follow_view = True
        self.plot.getViewBox().sigRangeChangedManually.connect(self._on_user_zoomed)
        self.legend_label = named(QLabel(" "), "latentLegend", "Point colours")
        self.legend_label.setWordWrap(True)
        self.legend_label.setTextFormat(Qt.RichText)

    def set_controls_shown(self, shown: bool) -> None:
        """Show or hide the map's own controls (the compare window drives all maps from one
        row of them; the combos keep working hidden)."""
        for w in self.control_widgets:
            w.setVisible(shown)

    def _set_enabled(self, on: bool) -> None:
        for w in (self.projection_combo, self.hold_combo, self.colour_combo):
            w.setEnabled(on)
        self.marker.setVisible(on)
        self._update_dim_controls()

    # -- data in ------------------------------------------------------------------
    def set_run(self, config: RunConfig, data: DatasetInfo) -> None:
        """A new run (or session): its latent size, labels and factors."""
        self.config, self.data = config, data
        self.snapshot = self.decoder = self.projection = None
        self.decoded_image = None
        self._marker_placed = False
        self._follow_view = True
        self.clear_pins()
        self.traits = family_class(config).traits(config)
        d = config.model.latent_dim
        variational = self.traits.prior_samples
        for w in (self.projection_combo, self.dim_x_spin, self.dim_y_spin, self.colour_combo):
            w.blockSignals(True)
        self.projection_combo.clear()
        self.projection_combo.addItems(["PCA", "dimensions"] if d > 2 else ["dimensions"])
        for spin, value in ((self.dim_x_spin, 1), (self.dim_y_spin, min(2, d))):
            spin.setRange(1, d)
            spin.setValue(value)
        self.colour_combo.clear()
        self.colour_combo.addItems(self.colouring.options(data) if self.traits.encoder
                                   else [*SCORE_COLOURINGS, "none"])
        for w in (self.projection_combo, self.dim_x_spin, self.dim_y_spin, self.colour_combo):
            w.blockSignals(False)
        # Decoded 2-D points are no pictures: their manifold is drawn in data space instead.
        self.manifold_check.setEnabled(variational and not is_point_data(data.image_shape))
        self.prior_check.setEnabled(variational)
        self._update_dim_controls()
        self._clear_map()

    def clear(self) -> None:
        """Show nothing (no run)."""
        self.config = self.data = self.snapshot = self.decoder = self.projection = None
        self.clear_pins()
        self._clear_map()

    def _clear_map(self) -> None:
        self.scatter.clear()
        self.extra_marker.clear()
        self.extra_path.clear()
        self.manifold_item.clear()
        for item in self.prior_items:
            item.clear()
        self.decoded_pane.set_image(None)
        self.decoded_image = None
        self.legend_label.setText(" ")
        self.plot.setLabel("bottom", "")
        self.plot.setLabel("left", "")
        for side in ("left", "bottom"):
            self.plot.hideAxis(side)   # an empty map's axes read 0 … 1
        self.placeholder.show_text("The codes of 500 validation images appear here as a map "
                                   "after the first epoch: drag the red marker to decode "
                                   "any point, double-click to pin one.")
        self.coords_label.setText(" ")
        self.weights_label.hide()
        self._set_enabled(False)

    def show_snapshot(self, snapshot: EpochSnapshot, decoder: LatentDecoder | None) -> None:
        """Show the codes of ``snapshot``; decode with ``decoder`` (None: no decoding)."""
        self.snapshot, self.decoder = snapshot, decoder
        kept = getattr(decoder, "weights_epoch", None)
        other = kept is not None and kept != snapshot.epoch
        self.weights_label.setText(f"decoding with the weights of epoch {kept}" if other else "")
        self.weights_label.setVisible(other)
        self._set_enabled(True)
        # isHidden, not isVisible: a map on a tab not shown yet (the compare window's) kept
        # its note over the codes.
        if not self.placeholder.isHidden():
            self.placeholder.show_text("")
            for side in ("left", "bottom"):
                self.plot.showAxis(side)
        self._rebuild_projection()
        if self._follow_view:
            self.fit_view()
        if not self._marker_placed:
            self._marker_placed = True
            centre = self.projection.project(self.projection.hold[None])[0]
            self.move_marker(*centre)
        else:
            self._decode_at_marker()
        if self.decoder is not None:
            self.pinned.refresh(snapshot.arrays["map_latents"], self.decoder)

    # -- following the run model (the Training tab) -------------------------------
    def on_reset(self) -> None:
        self.clear()
        self.decoded_pane.setVisible(True)
        self.pinned.setVisible(True)

    def on_run_added(self, run) -> None:
        if run.is_classifier or self.run_model.shows_stages:
            return
        self.set_run(run.config, run.data)
        points = is_point_data(run.data.image_shape)   # decoded points show in data space
        self.decoded_pane.setVisible(not points)
        self.pinned.setVisible(not points)

    def on_position(self, run, epoch: int) -> None:
        snap = run.snapshot(epoch)
        if not self.run_model.shows_stages and "map_latents" in snap.arrays:
            self.show_snapshot(snap, run.decoder(epoch) if self.run_model.may_build_decoders
                               else None)

    # -- projection -----------------------------------------------------------------
    def _update_dim_controls(self) -> None:
        dims = self.projection_combo.currentText() == "dimensions"
        d = self.config.model.latent_dim if self.config else 2
        for spin in (self.dim_x_spin, self.dim_y_spin):
            spin.setEnabled(dims and d > 2)
        self.hold_combo.setEnabled(d > 2 and self.snapshot is not None)

    def _hold_point(self, codes: np.ndarray) -> np.ndarray:
        if self.hold_combo.currentIndex() == 1:
            return np.zeros(codes.shape[1])
        return codes.mean(axis=0)

    def _rebuild_projection(self) -> None:
        codes = self.snapshot.arrays["map_latents"]
        d = codes.shape[1]
        hold = self._hold_point(codes)
        if d == 1:
            self.projection = LatentProjection(np.zeros(1), np.array([[1.0], [0.0]]), hold,
                                               ("z1", "(none)"))
        elif self.projection_combo.currentText() == "PCA":
            self.projection = pca_projection(codes, hold)
        else:
            x, y = self.dim_x_spin.value() - 1, self.dim_y_spin.value() - 1
            if x == y:  # the same dimension twice: show the next one on y
                y = (x + 1) % d
            self.projection = dims_projection(d, x, y, hold)
        self.plot.setLabel("bottom", self.projection.axis_names[0])
        self.plot.setLabel("left", self.projection.axis_names[1])
        self._redraw_points()
        self._redraw_prior()
        self._redraw_manifold()

    def _on_projection_changed(self, *_args) -> None:
        self._update_dim_controls()
        if self.snapshot is None:
            return
        self._rebuild_projection()
        self.fit_view()
        self._decode_at_marker()

    # -- drawing ------------------------------------------------------------------
    def _redraw_points(self, *_args) -> None:
        if self.snapshot is None or self.projection is None:
            return
        pts = self.projection.project(self.snapshot.arrays["map_latents"])
        choice = self.colour_combo.currentText()
        if self.traits.encoder:
            brushes, legend = self.colouring.brushes(self.data, choice)
        else:  # prior samples, not data: coloured by a score the snapshot carries
            scores = self.snapshot.arrays.get(SCORE_COLOURINGS.get(choice, ""))
            brushes, legend = self.colouring.score_brushes(scores, choice)
            legend = f"{legend}<br>{self.traits.missing.get('encoder', '')}"
        self.scatter.setData(pos=pts, brush=brushes, data=np.arange(len(pts)))
        self.legend_label.setText(legend)
        self._refresh_pin_markers()
        self._refresh_extra_marker()

    def map_extent(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The map area the manifold covers: the codes (1st-99th percentile) and ±3σ of the prior."""
        pts = self.projection.project(self.snapshot.arrays["map_latents"])
        lo, hi = np.percentile(pts, 1, axis=0), np.percentile(pts, 99, axis=0)
        if self.config is not None and self.traits.prior_samples:
            c = self.projection.prior_centre()
            lo, hi = np.minimum(lo, c - 3), np.maximum(hi, c + 3)
        span = np.maximum(hi - lo, 1e-6)
        lo, hi = lo - 0.05 * span, hi + 0.05 * span
        return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))

    def fit_view(self) -> None:
        """Show the codes (and, for a VAE, the prior's 3σ circle); follow them from now on."""
        if self.snapshot is None or self.projection is None:
            return
        (x0, x1), (y0, y1) = self.map_extent()
        self.plot.getViewBox().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.03)
        self._follow_view = True

    def _on_user_zoomed(self, *_args) -> None:
        self._follow_view = False
