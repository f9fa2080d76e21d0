"""Trails of a few probe points across epochs on the latent map.

Each epoch's snapshot holds the probe's codes ``probe_latent_mean`` (P, D);
stacking the first few across the saved epochs gives the path each point
took while the model learnt: early epochs wander, a converged model holds
still.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

#: Probe points a trail view follows by default.
TRAIL_POINTS = 8


def latent_trails(codes_per_epoch: Sequence[np.ndarray], n: int = TRAIL_POINTS) -> np.ndarray:
    """The first ``n`` probe points' codes, epoch by epoch.

    Parameters
    ----------
    codes_per_epoch : E arrays (P, D), one per saved epoch in order (each a
        snapshot's ``probe_latent_mean``).
    n : points to follow (fewer when P is smaller).

    Returns
    -------
    (E, n', D) float32, n' = min(n, P); (0, 0, 0) for no epochs.

    Raises
    ------
    ValueError
        When the epochs' code shapes differ.
    """
    if len(codes_per_epoch) == 0:
        return np.zeros((0, 0, 0), np.float32)
    arrays = [np.asarray(c, dtype=np.float32) for c in codes_per_epoch]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1 or arrays[0].ndim != 2:
        raise ValueError(f"every epoch's codes should be one (P, D) shape, got {sorted(shapes)}")
    k = min(n, arrays[0].shape[0])
    return np.stack([a[:k] for a in arrays])
