"""How sparse a code is: a histogram of its activations and its near-zero units per image.

A sparse autoencoder's L1 penalty drives most units of each image's code to
zero, so features are "present or absent": the histogram piles up at 0 and
the fraction of (near) zero units per image is high, compared with the same
model at λ = 0.
"""

from __future__ import annotations

import numpy as np

#: |h| below this counts as "off". A ReLU unit that is off is exactly 0; a sigmoid
#: unit never reaches 0, and 0.01 is 1 % of its range, a unit whose contribution to
#: the decoder's input is negligible. It is far above the precision of the float16
#: codes a session stores (which resolves ~6e-8 near 0), so live and replayed
#: runs count the same units.
NEAR_ZERO = 0.01


def activation_histogram(codes: np.ndarray, bins: int = 40,
                         value_range: tuple[float, float] | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of every code activation over the images.

    Parameters
    ----------
    codes : (M, D) code activations h of M images (a snapshot's ``map_latents``).
    bins : number of bins.
    value_range : (low, high) of the bins; default the codes' min and max, so a
        run and its λ = 0 twin can be given one common range to compare.

    Returns
    -------
    counts : (bins,) int64, how many of the M*D activations fall in each bin.
    edges : (bins + 1,) float64 bin edges.
    """
    h = np.asarray(codes, dtype=np.float64).ravel()
    h = h[np.isfinite(h)]
    if h.size == 0:
        return np.zeros(bins, np.int64), np.linspace(0.0, 1.0, bins + 1)
    counts, edges = np.histogram(h, bins=bins, range=value_range)
    return counts.astype(np.int64), edges


def near_zero_fraction(codes: np.ndarray, threshold: float = NEAR_ZERO) -> np.ndarray:
    """Fraction of units per image with |h| < threshold.

    Parameters
    ----------
    codes : (M, D) code activations.
    threshold : see :data:`NEAR_ZERO`.

    Returns
    -------
    (M,) float64 in [0, 1].
    """
    h = np.asarray(codes, dtype=np.float64)
    if h.ndim != 2:
        raise ValueError(f"codes should be (M, D), not shape {h.shape}")
    return (np.abs(h) < threshold).mean(axis=1)
