"""``data.image_size``: every image made one square size (shorter side resized, centre cut).

A model has one input size, and photos come in many. Each image is cropped
to the square at its centre (the longer side loses the same amount on both
ends) and that square is resized to ``size x size`` with an antialiasing
bilinear filter, which is the same as resizing the shorter side to ``size``
and cutting the centre, without the intermediate image. Smaller images are
enlarged the same way.

Two implementations, one geometry (:func:`centre_square`):

- 8-bit pixels (image files, uint8 arrays) are resized by Pillow in 8 bits,
  so they stay uint8 — what a streamed batch carries to the device (a
  quarter of the bytes of float32) — and a JPEG is decoded at a reduced
  scale first when the target is much smaller (Pillow's ``draft``).
- Float pixels (after scaling to [0, 1]) are resized by torch's antialiased
  bilinear interpolation, a batch at a time; the weights are non-negative,
  so the values stay in [0, 1].

Both paths of one source (loaded whole, streamed) use the same function, so
they train on the same numbers.
"""

from __future__ import annotations

import numpy as np

#: Images resized per torch call: bounds the float temporaries of a large set.
_CHUNK = 256


def centre_square(height: int, width: int) -> tuple[int, int, int]:
    """(top, left, side) of the largest centred square of an image ``height x width``."""
    side = min(height, width)
    return (height - side) // 2, (width - side) // 2, side


def fit_pillow(image, size: int):
    """A Pillow image -> its centre square resized to ``size x size`` (same mode).

    A JPEG file is best opened with ``image.draft(mode, (size, size))`` before
    it is decoded (:func:`engine.data.folder.read_image` does): it then decodes
    at 1/2, 1/4 or 1/8 scale where that still covers the target, and a 4000-px
    photo made 64 px decodes 64 times fewer pixels.
    """
    from PIL import Image

    top, left, side = centre_square(image.height, image.width)
    if image.size == (size, size):
        return image
    return image.resize((size, size), Image.Resampling.BILINEAR,
                        box=(left, top, left + side, top + side))


def fit_uint8(rows: np.ndarray, size: int) -> np.ndarray:
    """(k, C, H, W) uint8, C in {1, 3} -> (k, C, size, size) uint8 (Pillow, 8 bits)."""
    from PIL import Image

    k, c = rows.shape[:2]
    out = np.empty((k, c, size, size), np.uint8)
    for i in range(k):
        pixels = rows[i, 0] if c == 1 else np.ascontiguousarray(rows[i].transpose(1, 2, 0))
        fitted = np.asarray(fit_pillow(Image.fromarray(pixels), size))
        out[i] = fitted if c == 1 else fitted.transpose(2, 0, 1)
    return out


def fit_float(images: np.ndarray, size: int) -> np.ndarray:
    """(k, C, H, W) float32 in [0, 1] -> (k, C, size, size) float32 in [0, 1] (torch)."""
    import torch
    import torch.nn.functional as F

    k, c, h, w = images.shape
    top, left, side = centre_square(h, w)
    out = np.empty((k, c, size, size), np.float32)
    for i in range(0, k, _CHUNK):
        square = np.ascontiguousarray(images[i:i + _CHUNK, :, top:top + side, left:left + side],
                                      dtype=np.float32)
        if side == size:
            out[i:i + len(square)] = square
            continue
        t = torch.from_numpy(square)
        with torch.no_grad():
            t = F.interpolate(t, size=(size, size), mode="bilinear", antialias=True,
                              align_corners=False)
        out[i:i + len(square)] = t.clamp_(0.0, 1.0).numpy()
    return out


def fit_images(images: np.ndarray, size: int | None) -> np.ndarray:
    """Images of either kind made ``size x size`` (or returned as they are for None).

    Parameters
    ----------
    images : (k, C, H, W) uint8 (resized in 8 bits) or float32 in [0, 1].
    """
    if size is None or images.shape[-2:] == (size, size):
        return images
    if images.dtype == np.uint8:
        return fit_uint8(images, size)
    return fit_float(images, size)
