"""Pictures of codes and weights, and mosaics whose rows have different sizes.

Greedy pretraining shows things that are not images: stage k >= 2
reconstructs the *codes* of stage k - 1, ``(P, 1, 1, D)`` arrays, and the
first layer's weights are signed. Plain numpy here turns them into display
arrays in [0, 1] (or RGB), so the panels only place them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.tiles import grid_shape

PAD = 1
WHITE = 1.0


def code_tile_shape(d: int) -> tuple[int, int]:
    """(h, w) of the tile that shows a D-vector: the squarest exact factorisation.

    A D with no factors near its square root (a prime, say) gets a
    ``ceil(sqrt(D))``-wide tile whose last cells stay empty rather than a
    1 x D stripe.
    """
    root = math.isqrt(d)
    h = max(1, root)
    while h > 1 and d % h:
        h -= 1
    if h * 3 < root:   # too elongated: pad instead
        w = math.ceil(math.sqrt(d))
        return math.ceil(d / w), w
    return h, d // h


def code_levels(codes: np.ndarray) -> tuple[float, float]:
    """The display range of codes: [0, 1] for codes inside it (sigmoid), else their span."""
    lo, hi = float(np.nanmin(codes)), float(np.nanmax(codes))
    if lo >= -1e-6 and hi <= 1 + 1e-6:
        return 0.0, 1.0
    return (lo, hi) if hi > lo else (lo - 1.0, hi + 1.0)


def codes_as_tiles(codes: np.ndarray, levels: tuple[float, float],
                   target: int = 28) -> np.ndarray:
    """Code vectors as small grey pictures, one cell per unit.

    Parameters
    ----------
    codes : (P, 1, 1, D) or (P, D) code values.
    levels : (lo, hi) mapped to black and white.
    target : about this many pixels along the tile's longer side (cells are
        repeated a whole number of times, so units stay crisp squares).

    Returns
    -------
    (P, h*f, w*f) float32 in [0, 1]; cells past D (padding) are white.
    """
    flat = np.asarray(codes, np.float32).reshape(len(codes), -1)
    d = flat.shape[1]
    h, w = code_tile_shape(d)
    lo, hi = levels
    scaled = np.clip((flat - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    out = np.full((len(flat), h * w), WHITE, np.float32)
    out[:, :d] = scaled
    f = max(1, round(target / max(h, w)))
    return np.repeat(np.repeat(out.reshape(-1, h, w), f, axis=1), f, axis=2)


@dataclass(frozen=True)
class MosaicRow:
    """One row of a :func:`row_mosaic`: a title and (n, h, w) display images in [0, 1]."""

    title: str
    images: np.ndarray
    gap_before: int = 0


def row_mosaic(rows: list[MosaicRow], pad: int = PAD) -> tuple[np.ndarray, list[tuple[float, str]]]:
    """Rows of images of different sizes, column-aligned, on white.

    Every column is as wide as the widest image in it; smaller images are
    centred in their cell. Rows keep their own height.

    Returns
    -------
    mosaic : (H, W) float32 in [0, 1]
    centres : (y, title) of each row's vertical centre, for axis labels.
    """
    n = max(len(r.images) for r in rows)
    cell_w = max(r.images.shape[2] for r in rows)
    width = n * (cell_w + pad) - pad
    height = sum(r.images.shape[1] + r.gap_before for r in rows) + pad * (len(rows) - 1)
    out = np.full((height, width), WHITE, np.float32)
    centres = []
    y = 0
    for i, row in enumerate(rows):
        y += row.gap_before + (pad if i else 0)
        h, w = row.images.shape[1:3]
        x0 = (cell_w - w) // 2
        for j, img in enumerate(row.images):
            x = j * (cell_w + pad) + x0
            out[y:y + h, x:x + w] = img
        centres.append((y + h / 2, row.title))
        y += h
    return out, centres


def feature_tiles(weights: np.ndarray, count: int, colormap=None,
                  pad: int = PAD) -> np.ndarray:
    """Each unit's input weights as a picture, normalised per unit, in a grid.

    Parameters
    ----------
    weights : (units, C, H, W) raw, signed weights (``first_layer_features``).
    count : show the first ``count`` units.
    colormap : a pyqtgraph ColorMap for a diverging picture (0 weight in the
        middle colour, each unit scaled by its largest |weight|); None for grey
        (each unit stretched from its smallest to its largest weight).

    Returns
    -------
    (rows*(H+pad)-pad, cols*(W+pad)-pad, 3) float32 RGB in [0, 1], white between tiles.
    """
    w = np.asarray(weights, np.float32)[:max(1, count)]
    units, c, h, wd = w.shape
    # Colour input in grey mode: each unit's three channels as RGB; otherwise
    # (and for the diverging map, which has one value a pixel) the channel mean.
    pic = np.moveaxis(w, 1, -1) if c == 3 and colormap is None else w.mean(axis=1)
    flat = pic.reshape(units, -1)
    if colormap is not None and pic.ndim == 3:
        scale = np.abs(flat).max(axis=1, keepdims=True)
        values = (flat / np.where(scale > 0, scale, 1.0) + 1.0) / 2.0      # [-1, 1] -> [0, 1]
        rgb = colormap.map(values.reshape(-1), mode="float")[:, :3].reshape(units, h, wd, 3)
    else:
        lo, hi = flat.min(axis=1, keepdims=True), flat.max(axis=1, keepdims=True)
        values = (flat - lo) / np.where(hi > lo, hi - lo, 1.0)
        rgb = values.reshape(pic.shape)
        if rgb.ndim == 3:
            rgb = np.repeat(rgb[..., None], 3, axis=-1)
    rows, cols = grid_shape(units)
    out = np.full((rows * (h + pad) - pad, cols * (wd + pad) - pad, 3), WHITE, np.float32)
    for i in range(units):
        r, col = divmod(i, cols)
        out[r * (h + pad):r * (h + pad) + h, col * (wd + pad):col * (wd + pad) + wd] = rgb[i]
    return out
