"""What lies on top of the latent map: the decoding marker, the pins, the extra marker.

:class:`MapMarkers` is a mixin of
:class:`~gui.panels.latent_explorer.LatentExplorerPanel`: dragging the red
marker decodes the code under it; a double-click pins a point's
reconstruction (or the image decoded where it fell) as a star; the extra
marker shows a code from elsewhere (the drawing pad's drawing). The panel
owns the map, its projection and the decoder these read.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from engine.tiles import to_display
from gui.panels.pinned_reconstructions import PinnedPoint

PIN_REACH = 10          # pixels: a double-click this close to a point pins that point


class MapMarkers:
    """The marker, pins and extra marker of a latent map (a mixin of the explorer panel)."""

    def _build_markers(self) -> None:
        """The items on top of the map's points: pins' stars, the extra marker, the marker."""
        self.pin_markers = pg.ScatterPlotItem(size=16, symbol="star",
                                              pen=pg.mkPen("k", width=1), brush="#ffd400")
        self.pin_markers.setZValue(5)
        self.plot.addItem(self.pin_markers)
        # An extra marker: a code from elsewhere (the drawing pad's drawing), not a map point.
        self.extra_marker = pg.ScatterPlotItem(size=18, symbol="d", pen=pg.mkPen("k", width=1.5),
                                               brush="#00b4f0")
        self.extra_marker.setZValue(6)
        self.plot.addItem(self.extra_marker)
        self.extra_code: np.ndarray | None = None
        # An interpolation's path between two codes (the interpolation view's), as a line.
        self.extra_path = pg.PlotDataItem(pen=pg.mkPen("#00b4f0", width=2.5), symbol="o",
                                          symbolSize=5, symbolBrush="#00b4f0", symbolPen=None)
        self.extra_path.setZValue(6)
        self.plot.addItem(self.extra_path)
        self.path_codes: np.ndarray | None = None
        self.marker = pg.TargetItem(pos=(0, 0), size=16, movable=True,
                                    pen=pg.mkPen("#d00000", width=3),
                                    hoverPen=pg.mkPen("#ff4040", width=3))
        self.marker.setZValue(10)
        self.plot.addItem(self.marker)
        self.marker.sigPositionChanged.connect(self._on_marker_moved)
        self.plot.scene().sigMouseClicked.connect(self._on_map_clicked)

    # -- the marker -----------------------------------------------------------------
    def move_marker(self, x: float, y: float) -> None:
        """Put the marker at map point (x, y) and decode there (as a drag would)."""
        self.marker.setPos(pg.Point(float(x), float(y)))

    def marker_position(self) -> tuple[float, float]:
        p = self.marker.pos()
        return float(p.x()), float(p.y())

    def _on_marker_moved(self, *_args) -> None:
        self._decode_at_marker()

    def _decode_at_marker(self) -> None:
        if self.projection is None or self.decoder is None:
            if self.snapshot is not None and self.decoder is None:
                self.coords_label.setText("No decoder stored for this epoch.")
            return
        x, y = self.marker_position()
        z = self.projection.to_latent(np.array([[x, y]]))
        image = to_display(self.decoder.decode(z))[0]
        self.decoded_image = image
        self.decoded_pane.set_image(image)
        self.coords_label.setText(code_words(z[0]))
        self.decoded.emit()

    # -- pins -----------------------------------------------------------------------
    def _on_points_clicked(self, _item, points, ev) -> None:
        if ev is not None and ev.double() and len(points):
            self.pin_point(int(points[0].data()))

    def _on_map_clicked(self, ev) -> None:
        """A double-click that hit no point: pin the nearest point within
        :data:`PIN_REACH` pixels, else the image decoded at that place of the map."""
        if not ev.double() or ev.isAccepted() or ev.button() != Qt.LeftButton:
            return
        view = self.plot.getViewBox()
        if not view.sceneBoundingRect().contains(ev.scenePos()):
            return
        self.pin_near(view.mapSceneToView(ev.scenePos()), ev.scenePos())

    def pin_near(self, at: pg.Point, scene_pos=None) -> PinnedPoint | None:
        """Pin what a double-click at map point ``at`` means (see :meth:`_on_map_clicked`)."""
        if self.snapshot is None or self.decoder is None or self.projection is None:
            return None
        view = self.plot.getViewBox()
        scene_pos = view.mapViewToScene(at) if scene_pos is None else scene_pos
        pts = self.projection.project(self.snapshot.arrays["map_latents"])
        if len(pts):
            screen = np.array([[p.x(), p.y()] for p in
                               (view.mapViewToScene(pg.Point(*xy)) for xy in pts)])
            dist = np.hypot(*(screen - [scene_pos.x(), scene_pos.y()]).T)
            nearest = int(np.argmin(dist))
            if dist[nearest] <= PIN_REACH:
                return self.pin_point(nearest)
        return self.pin_at(at.x(), at.y())

    def pin_at(self, x: float, y: float) -> PinnedPoint | None:
        """Pin the image decoded at map point (x, y): its code, as the marker would decode."""
        if self.projection is None or self.decoder is None:
            return None
        code = self.projection.to_latent(np.array([[x, y]]))[0]
        return self.pinned.add(None, code, self.decoder, "•")

    def pin_point(self, index: int) -> PinnedPoint | None:
        """Pin the reconstruction of map point ``index`` (decoded from its full code)."""
        if self.snapshot is None or self.decoder is None:
            return None
        label = (self.colouring.label_of(self.data, index) if self.traits.encoder
                 else f"z #{index}")
        return self.pinned.add(index, self.snapshot.arrays["map_latents"][index], self.decoder,
                               label)

    @property
    def pins(self) -> list[PinnedPoint]:
        return self.pinned.pins

    def clear_pins(self) -> None:
        self.pinned.clear()

    # -- the extra marker --------------------------------------------------------------
    def show_extra_marker(self, code: np.ndarray | None) -> None:
        """Mark a code (D,) on the map (a drawing's, from the drawing pad); None removes it."""
        self.extra_code = None if code is None else np.asarray(code, np.float64).ravel()
        self._refresh_extra_marker()

    def show_extra_path(self, codes: np.ndarray | None) -> None:
        """Draw a path of codes (S, D) on the map as a line (an interpolation); None removes it."""
        self.path_codes = None if codes is None else np.asarray(codes, np.float64)
        self._refresh_extra_marker()

    def extra_marker_position(self) -> tuple[float, float] | None:
        """Where the extra marker is on the map (None when there is none)."""
        pts = self.extra_marker.data
        if self.extra_code is None or not len(pts):
            return None
        return float(pts[0]["x"]), float(pts[0]["y"])

    def _refresh_extra_marker(self) -> None:
        path = self.path_codes
        if (path is None or self.projection is None
                or path.shape[1] != self.projection.latent_dim):
            self.extra_path.clear()
        else:
            xy = self.projection.project(path)
            self.extra_path.setData(xy[:, 0], xy[:, 1])
        code = self.extra_code
        if (code is None or self.projection is None
                or len(code) != self.projection.latent_dim):
            self.extra_marker.clear()
        else:
            self.extra_marker.setData(pos=self.projection.project(code[None]))

    def _refresh_pin_markers(self) -> None:
        codes = self.pinned.codes()
        if codes is None or self.projection is None:
            self.pin_markers.clear()
        else:
            self.pin_markers.setData(pos=self.projection.project(codes))


def code_words(z: np.ndarray, shown: int = 4) -> str:
    """A code as the readout shows it: ``z = [0.12, -0.40]``, or for a long one its size
    first, ``z (20-d) = [0.12, -0.40, 1.20, 0.33, …]``, so that cutting the end to fit
    never loses what it is."""
    values = ", ".join(f"{v:.2f}" for v in z[:shown])
    if len(z) <= shown:
        return f"z = [{values}]"
    return f"z ({len(z)}-d) = [{values}, …]"
