"""The identity risk: does the model reconstruct inputs that are no digits at all?

An autoencoder with more code units than pixels (overcomplete) and no
regulariser can learn something close to the identity: it then copies
uniform noise almost as well as digits. An undercomplete or regularised one
has learnt the data and maps off-manifold inputs to something digit-like.
The snapshot reconstructs a fixed off-manifold probe each epoch;
:func:`identity_ratio` sums that up in one number.

The noise fills only the pixels where the probe images have ink somewhere
(elsewhere it is 0). Pixels that never vary in the training data (MNIST's
border: 16 % of the pixels of the bundled 4,500 digits) teach a model
nothing, so no autoencoder trained on them copies noise there, and noise
there would measure the data set's border rather than the identity risk.
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
    on [0, 1] on the probe's support (the pixels where some probe image is
    above 0; the others 0, see the module docstring), all zeros, 1 - x and x
    shifted right by W // 4 pixels (zeros enter from the left, nothing wraps
    round) for x the first probe image.
    """
    is_tensor = isinstance(probe_images, Tensor)
    probe = (probe_images.detach().cpu().numpy() if is_tensor
             else np.asarray(probe_images)).astype(np.float32)
    first = probe[0]
    c, h, w = first.shape
    support = (probe > 0).any(axis=0)
    rng = np.random.default_rng(seed)
    noise = rng.random((NOISE_IMAGES, c, h, w), dtype=np.float32) * support
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


def flat_errors(inputs: Images) -> Images:
    """The error of ignoring the input: each image's squared error to its own mean grey.

    Parameters
    ----------
    inputs : (B, C, H, W), numpy or torch.

    Returns
    -------
    (B,) of the same type: the variance of each image's pixels, the mean squared
    error per pixel of the best constant reconstruction.
    """
    flat = inputs.reshape(inputs.shape[0], -1)
    return ((flat - flat.mean(1)[:, None]) ** 2).mean(1)


def identity_ratio(arrays: Mapping[str, np.ndarray]) -> float:
    """How much of the noise the model fails to copy: median over the noise images of
    ``identity_error / identity_flat_error``.

    Parameters
    ----------
    arrays : a snapshot's arrays, with ``identity_error`` (K,) and ``identity_flat_error``
        (K,) (:func:`flat_errors` of the inputs).

    Returns
    -------
    float >= 0: near 0 the model copies the noise, i.e. its input (the identity
    risk); near 1 or above it does no better than a flat grey image (above 1: it
    draws digit strokes into the noise), as a model that learnt the data does.
    ``nan`` when the arrays are missing (sessions from before).

    Notes
    -----
    Not relative to the digits' error (``probe_error``): an overcomplete model also
    reconstructs digits far better than an undercomplete one, so that ratio says
    more about digits than about copying.
    """
    if "identity_error" not in arrays or "identity_flat_error" not in arrays:
        return float("nan")
    err = np.asarray(arrays["identity_error"], np.float64)[:NOISE_IMAGES]
    flat = np.asarray(arrays["identity_flat_error"], np.float64)[:NOISE_IMAGES]
    if err.size == 0 or np.any(flat <= 0):
        return float("nan")
    return float(np.median(err / flat))
