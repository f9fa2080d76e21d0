"""The identity risk: does the model reconstruct inputs that are no digits at all?

An autoencoder with more code units than pixels (overcomplete) and no
regulariser can learn something close to the identity: it then reconstructs
uniform noise about as well as digits. An undercomplete or regularised one
has learnt the data and maps off-manifold inputs to something digit-like, so
its error on them is many times its error on digits. The snapshot
reconstructs a fixed off-manifold probe each epoch; :func:`identity_ratio`
sums that up in one number.
"""

from __future__ import annotations

from typing import Mapping, TypeVar

import numpy as np
import torch
from torch import Tensor

#: The off-manifold probe, in order: K = 7 inputs.
OFF_MANIFOLD_NAMES = ("noise 1", "noise 2", "noise 3", "noise 4", "blank", "inverted",
                      "shifted")
#: The first NOISE_IMAGES inputs are uniform noise: the ones :func:`identity_ratio` reads.
NOISE_IMAGES = 4

Images = TypeVar("Images", np.ndarray, Tensor)


def off_manifold_images(probe_images: Images, seed: int = 0) -> Images:
    """Inputs no data set holds: noise, a blank, the first digit inverted and shifted.

    Parameters
    ----------
    probe_images : (P, C, H, W) in [0, 1], numpy or torch (P >= 1).
    seed : seeds the noise, so every epoch (and every run) sees the same inputs.

    Returns
    -------
    (K, C, H, W), K = 7 in the order of :data:`OFF_MANIFOLD_NAMES`, of the
    input's type (a tensor on its device and dtype): 4 images of uniform noise
    on [0, 1], all zeros, 1 - x and x shifted right by W // 4 pixels (zeros
    enter from the left, nothing wraps round) for x the first probe image.
    """
    is_tensor = isinstance(probe_images, Tensor)
    first = (probe_images[0].detach().cpu().numpy() if is_tensor
             else np.asarray(probe_images[0])).astype(np.float32)
    c, h, w = first.shape
    rng = np.random.default_rng(seed)
    noise = rng.random((NOISE_IMAGES, c, h, w), dtype=np.float32)
    shifted = np.zeros_like(first)
    s = w // 4
    shifted[..., s:] = first[..., : w - s]
    out = np.concatenate([noise, np.zeros((1, c, h, w), np.float32), (1.0 - first)[None],
                          shifted[None]])
    if is_tensor:
        return torch.from_numpy(out).to(device=probe_images.device, dtype=probe_images.dtype)
    return out


def reconstruction_errors(inputs: Images, recon: Images) -> Images:
    """Mean squared error per pixel of each image, values in [0, 1].

    Parameters
    ----------
    inputs, recon : (B, C, H, W), numpy or torch alike.

    Returns
    -------
    (B,) of the same type.
    """
    diff = (inputs - recon) ** 2
    return diff.reshape(diff.shape[0], -1).mean(1)


def identity_ratio(arrays: Mapping[str, np.ndarray]) -> float:
    """median(error on the noise images) / median(error on the probe digits).

    Parameters
    ----------
    arrays : a snapshot's arrays, with ``identity_error`` (K,) and ``probe_error`` (P,).

    Returns
    -------
    float: low (towards 1) means it reconstructs noise as well as digits, i.e. it
    copies its input (the identity risk); a model that learnt the data has a
    ratio of tens. ``nan`` when the arrays are missing (sessions from before)
    and ``inf`` when the digits are reconstructed exactly.

    Raises
    ------
    nothing: views call it on any snapshot.
    """
    if "identity_error" not in arrays or "probe_error" not in arrays:
        return float("nan")
    noise = float(np.median(np.asarray(arrays["identity_error"], np.float64)[:NOISE_IMAGES]))
    digits = float(np.median(np.asarray(arrays["probe_error"], np.float64)))
    if digits <= 0:
        return float("inf") if noise > 0 else float("nan")
    return noise / digits
