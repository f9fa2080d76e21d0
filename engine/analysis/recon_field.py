"""The reconstruction field of a 2-D autoencoder: where it sends each point of the plane.

For 2-D point data the snapshot reconstructs a G x G grid over data space;
the arrows r(x) - x show the field. Alain & Bengio (2014) show that for a
denoising or contractive autoencoder with small noise r(x) - x is
proportional to the score d log p(x) / dx: the arrows point back to the
data. For an overcomplete plain autoencoder r is close to the identity and
the arrows vanish. With a 1-D code the decoder's image of a line of codes is
the curve the model has learnt (:func:`code_line`).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from engine.data.toy2d import DATA_EXTENT, grid_points

#: Grid side of a snapshot's field (G*G arrows: 225 are legible and cost nothing).
FIELD_SIDE = 15
#: Codes on the 1-D code curve.
CURVE_POINTS = 200
#: How far beyond the data's codes the curve goes, on each side, as a fraction of their range.
CURVE_MARGIN = 0.10

__all__ = ["DATA_EXTENT", "FIELD_SIDE", "CURVE_POINTS", "field_grid", "recon_field",
           "code_line"]


def field_grid(side: int = FIELD_SIDE) -> np.ndarray:
    """The grid the field is computed on.

    Parameters
    ----------
    side : G, points per axis over :data:`~engine.data.toy2d.DATA_EXTENT`.

    Returns
    -------
    (G*G, 2) float32 cell centres, x fastest, row 0 at y = 0.
    """
    return grid_points(side)


def recon_field(arrays: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The grid and its arrows r(x) - x from a snapshot.

    Parameters
    ----------
    arrays : a snapshot's arrays with ``field_recon`` (G*G, 2).

    Returns
    -------
    grid : (G*G, 2) float32, :func:`field_grid` of the side the snapshot used.
    arrows : (G*G, 2) float32, ``field_recon - grid``.

    Raises
    ------
    KeyError
        When the snapshot has no field (not 2-D data, or a session from before).
    ValueError
        When ``field_recon`` is not a square grid of 2-D points.
    """
    recon = np.asarray(arrays["field_recon"], dtype=np.float32)
    side = int(round(np.sqrt(recon.shape[0])))
    if recon.ndim != 2 or recon.shape[1] != 2 or side * side != recon.shape[0]:
        raise ValueError(f"field_recon should be (G*G, 2), not shape {recon.shape}")
    grid = field_grid(side)
    return grid, recon - grid


def code_line(map_latents: np.ndarray, n: int = CURVE_POINTS,
              margin: float = CURVE_MARGIN) -> np.ndarray:
    """Codes on a line spanning a 1-D code's range, to decode into the learnt curve.

    Parameters
    ----------
    map_latents : (M, 1) codes of the map's images.
    n : L, points on the line.
    margin : the line runs this fraction of the codes' range beyond each end.

    Returns
    -------
    (L, 1) float32, evenly spaced, increasing.
    """
    z = np.asarray(map_latents, dtype=np.float64).ravel()
    z = z[np.isfinite(z)]
    lo, hi = (float(z.min()), float(z.max())) if z.size else (-1.0, 1.0)
    pad = margin * (hi - lo) if hi > lo else 1.0
    return np.linspace(lo - pad, hi + pad, n, dtype=np.float64).astype(np.float32)[:, None]
