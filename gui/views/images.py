"""Turning the engine's image batches into arrays that pyqtgraph can show.

Every function here is plain numpy: batches are ``(N, C, H, W)`` float32
in [0, 1] as the engine produces them; displays are ``(H, W)`` grey or
``(H, W, 3)`` colour arrays, row-major.
"""

from __future__ import annotations

import math

import numpy as np


def to_display(images: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N, H, W) for one channel, (N, H, W, 3) for colour.

    Two-channel or more-than-three-channel images show their first channel
    (or first three), since a screen has three.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:  # a single (C, H, W) image
        images = images[None]
    c = images.shape[1]
    if c == 1 or c == 2:
        return images[:, 0]
    return np.moveaxis(images[:, :3], 1, -1)


def tile(images: np.ndarray, cols: int, pad: int = 1, fill: float = 1.0) -> np.ndarray:
    """Lay out display images in a grid, row by row.

    Parameters
    ----------
    images : (N, H, W) or (N, H, W, 3), as from :func:`to_display`.
    cols : images per grid row.
    pad : pixels between images.
    fill : value of the padding and of empty cells (1.0 is white).

    Returns
    -------
    (rows*(H+pad)-pad, cols*(W+pad)-pad[, 3]) float32
    """
    n = images.shape[0]
    cols = max(1, min(cols, n)) if n else max(1, cols)
    rows = max(1, math.ceil(n / cols))
    h, w = images.shape[1:3]
    extra = images.shape[3:]
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad, *extra), fill, np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = images[i]
    return out


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, cols) of the squarest grid that holds ``n`` images."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return max(1, math.ceil(n / cols)), cols
