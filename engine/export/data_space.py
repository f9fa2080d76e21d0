"""Data space of a 2-D point run as a picture: the map behind, real and model points on top.

GAN Lab's view, for ``export`` (and the colours the window uses too): the
square :data:`~engine.data.toy2d.DATA_EXTENT` with, behind the points,
the map a snapshot carries —

- ``disc_map``: a GAN discriminator's D(x), from purple (0: "generated")
  through white (0.5: undecided) to green (1: "real"), the colour growing with
  the square root of |D - 0.5| so that a discriminator near equilibrium shows;
- ``density_map``: an RBM's log p(x), white (low) to blue (high), over
  the top :data:`DENSITY_RANGE` nats;

and the points: real ones (``real_points``) dark grey, reconstructions
(``recon_points``) blue, generated ones (``generated_points``) orange.
"""

from __future__ import annotations

import numpy as np

from engine.data.toy2d import DATA_EXTENT

REAL = (70, 70, 70)
RECON = (31, 119, 180)
GENERATED = (255, 127, 14)
_FAKE_END, _REAL_END = np.array([148, 103, 189]), np.array([44, 160, 44])
_LOW, _HIGH = np.array([255, 255, 255]), np.array([33, 102, 172])
DENSITY_RANGE = 8.0   # nats of log p(x) the density map spans below its maximum
POINT_SETS = (("real_points", REAL), ("recon_points", RECON), ("generated_points", GENERATED))


def map_rgb(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray | None, str]:
    """The snapshot's map as colours, rows bottom (y = 0) first, and what it shows.

    Returns
    -------
    (S, S, 3) uint8 or None when the snapshot carries no map, and a caption.
    """
    if "disc_map" in arrays:
        d = np.clip(np.asarray(arrays["disc_map"], np.float32), 0.0, 1.0)[..., None]
        # sqrt of the distance from 0.5: near equilibrium D stays close to 0.5, and a
        # linear ramp would show it all white.
        s = np.sign(d - 0.5) * np.sqrt(np.abs(d - 0.5) * 2)
        white = np.array([255.0, 255.0, 255.0])
        rgb = np.where(s >= 0, white + s * (_REAL_END - white), white - s * (_FAKE_END - white))
        return rgb.astype(np.uint8), ("D(x): green = 'real', purple = 'generated', white = "
                                      "undecided (contrast stretched)")
    if "density_map" in arrays:
        lp = np.asarray(arrays["density_map"], np.float32)
        t = np.clip((lp - (lp.max() - DENSITY_RANGE)) / DENSITY_RANGE, 0.0, 1.0)[..., None]
        return (_LOW + t * (_HIGH - _LOW)).astype(np.uint8), \
            f"log p(x), the top {DENSITY_RANGE:g} nats: darker = more likely"
    return None, ""


def render_data_space(arrays: dict[str, np.ndarray], real: np.ndarray | None = None,
                      size: int = 320) -> np.ndarray:
    """The data space of one snapshot as an RGB picture (size, size, 3) uint8.

    Parameters
    ----------
    arrays : a snapshot's arrays (maps and point sets, see the module docstring).
    real : (N, 2) real points when the snapshot has none (the probe points).
    """
    lo, hi = DATA_EXTENT
    canvas = np.full((size, size, 3), 255, np.uint8)
    rgb, _ = map_rgb(arrays)
    if rgb is not None:
        side = rgb.shape[0]
        idx = (np.arange(size) * side // size)
        canvas[:] = rgb[idx][:, idx][::-1]          # row 0 of the picture is the top (y = 1)
    sets = {name: arrays.get(name) for name, _ in POINT_SETS}
    if sets["real_points"] is None and real is not None:
        sets["real_points"] = real
    for name, colour in POINT_SETS:
        pts = sets[name]
        if pts is None or len(pts) == 0:
            continue
        p = (np.asarray(pts, np.float64)[:, :2] - lo) / (hi - lo) * (size - 1)
        cols = np.clip(np.rint(p[:, 0]).astype(int), 0, size - 1)
        rows = np.clip(size - 1 - np.rint(p[:, 1]).astype(int), 0, size - 1)
        for dr in (-1, 0, 1):               # 3x3 dots
            for dc in (-1, 0, 1):
                canvas[np.clip(rows + dr, 0, size - 1), np.clip(cols + dc, 0, size - 1)] = colour
    return canvas
