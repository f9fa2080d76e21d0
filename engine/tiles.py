"""Image batches as pictures: the one function that tiles images, for the window and the files.

Plain numpy, no Qt: batches are ``(N, C, H, W)`` float32 in [0, 1] as the
engine produces them; pictures are ``(H, W)`` grey or ``(H, W, 3)`` colour
arrays, row-major. The window shows :func:`tile`'s float picture; the
exports draw :func:`to_bytes` of it.
"""

from __future__ import annotations

import math

import numpy as np


def to_display(images: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N, H, W) for one channel, (N, H, W, 3) for colour.

    Two-channel or more-than-three-channel images show their first channel
    (or first three), since a screen has three. A single (C, H, W) image is a batch of one.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[None]
    c = images.shape[1]
    if c == 1 or c == 2:
        return images[:, 0]
    return np.moveaxis(images[:, :3], 1, -1)


def tile(images: np.ndarray, cols: int, pad: int = 1, fill: float = 1.0,
         border: bool = False) -> np.ndarray:
    """Lay out display images in a grid, row by row.

    Parameters
    ----------
    images : (N, H, W) or (N, H, W, 3), as from :func:`to_display`.
    cols : images per grid row (fewer when there are fewer images).
    pad : pixels between images.
    fill : value of the padding and of empty cells (1.0 is white).
    border : a ``pad`` wide margin around the grid too (the exported figures have one).

    Returns
    -------
    (rows*(H+pad)-pad, cols*(W+pad)-pad[, 3]) float32, each side ``2*pad`` larger with a
    border.
    """
    n = images.shape[0]
    cols = max(1, min(cols, n)) if n else max(1, cols)
    rows = max(1, math.ceil(n / cols))
    h, w = images.shape[1:3]
    edge = pad if border else 0
    out = np.full((rows * (h + pad) - pad + 2 * edge, cols * (w + pad) - pad + 2 * edge,
                   *images.shape[3:]), fill, np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        y, x = edge + r * (h + pad), edge + c * (w + pad)
        out[y:y + h, x:x + w] = images[i]
    return out


def to_bytes(picture: np.ndarray) -> np.ndarray:
    """A float picture in [0, 1] -> uint8 (rounded, clipped), the same shape."""
    return (np.clip(picture, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def image_grid(images: np.ndarray, cols: int, pad: int = 2) -> np.ndarray:
    """(N, C, H, W) in [0, 1] -> the uint8 picture the exports draw: :func:`tile` of the
    display images with a white border."""
    return to_bytes(tile(to_display(images), cols, pad, border=True))


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, cols) of the squarest grid that holds ``n`` images."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return max(1, math.ceil(n / cols)), cols
