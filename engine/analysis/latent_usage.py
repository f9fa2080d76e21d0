"""Which latent dimensions a VAE uses: KL per dimension, sorted, and active units.

The KL term pulls every q(z_d|x) towards N(0, 1); a dimension that the
decoder does not need gives in completely (its mean stops depending on x and
its KL drops to ~0: *posterior collapse*). Burda, Grosse & Salakhutdinov
(2016, "Importance Weighted Autoencoders", section 5.2) call a dimension
*active* when the variance over the data of its posterior mean,
Cov_x(E_q[z_d | x]), exceeds 0.01.
"""

from __future__ import annotations

import numpy as np

#: Burda et al.'s threshold on Cov_x(E_q[z_d|x]): a unit whose mean code varies
#: less than this over the data carries (almost) no information about x.
ACTIVE_THRESHOLD = 0.01


def code_variance(map_latents: np.ndarray) -> np.ndarray:
    """Variance over images of each dimension of the mean code.

    Parameters
    ----------
    map_latents : (M, D) the code h (a deterministic encoder) or the mean of
        q(z|x) (a VAE) of M validation images, as in a snapshot's ``map_latents``.

    Returns
    -------
    (D,) float64, the diagonal of the sample covariance (ddof = 1, as ``np.cov``).
    """
    m = np.asarray(map_latents, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"map_latents should be (M, D), not shape {m.shape}")
    if m.shape[0] < 2:
        return np.zeros(m.shape[1])
    return m.var(axis=0, ddof=1)


def active_units(map_latents: np.ndarray, threshold: float = ACTIVE_THRESHOLD) -> np.ndarray:
    """Which dimensions are active: Cov_x(E_q[z_d|x]) > threshold.

    Parameters
    ----------
    map_latents : (M, D) mean codes of M images.
    threshold : the variance a dimension needs (Burda et al.: 0.01).

    Returns
    -------
    (D,) bool.
    """
    return code_variance(map_latents) > threshold


def kl_sorted(kl_per_dim: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The KL per dimension in descending order, for the bar chart.

    Parameters
    ----------
    kl_per_dim : (D,) nats, a snapshot's ``kl_per_dim``.

    Returns
    -------
    order : (D,) int64 indices of the dimensions, largest KL first (ties keep
        their index order, so the bars do not swap between equal epochs).
    values : (D,) float64 ``kl_per_dim[order]``.
    """
    kl = np.asarray(kl_per_dim, dtype=np.float64).ravel()
    order = np.argsort(-kl, kind="stable")
    return order, kl[order]
