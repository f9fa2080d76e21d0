"""Posterior collapse beyond active units: the mutual information I(x; z) under q.

The KL term of a VAE, averaged over the data, splits in two (Hoffman &
Johnson 2016, "ELBO surgery")::

    E_x KL(q(z|x) ‖ p(z)) = I_q(x; z) + KL(q(z) ‖ p(z))

where q(z) = E_x q(z|x) is the aggregate posterior. Only the first part is
information about x; the second is what the codes of all images together
still differ from the prior. A collapsed posterior has I(x; z) = 0 whatever
its KL. He, Spokoyny, Neubig & Berg-Kirkpatrick (2019, "Lagging inference
networks and posterior collapse", their ``calc_mi``) estimate it from a set
of M images with Gaussian posteriors N(mu_i, diag(exp(logvar_i)))::

    I ≈ mean_i E_{q(z|x_i)}[log q(z|x_i)]                 (minus the entropy: closed form)
        - mean_i log q(z_i),   z_i ~ q(z|x_i),  q(z) ≈ 1/M Σ_j q(z|x_j)

The estimate cannot exceed log M (each z_i is most likely under its own
posterior): with 1,000 images, about 6.9 nats. He et al. average it over
mini-batches of their test set; here the M map images form one batch (a
larger M, a smaller bias). The outer mean over images is taken over
:data:`SAMPLES` of them (a random subset: the same expectation, a quarter of
the work for 1,000 images), while q(z) is always the mixture of all M. The
pairwise log-densities are three matrix products in torch (whose threads the
app sizes to the free cores; numpy's BLAS spins its own on a busy machine),
not an (M, M, D) array.
"""

from __future__ import annotations

import math

import numpy as np
import torch

#: Images whose z the outer mean averages over (all of them when there are fewer).
SAMPLES = 256


def gaussian_log_density_matrix(z: np.ndarray, mean: np.ndarray,
                                logvar: np.ndarray) -> np.ndarray:
    """log N(z_s; mean_j, diag(exp(logvar_j))) for every sample s and posterior j.

    Parameters
    ----------
    z : (S, D) points.
    mean, logvar : (M, D) the posteriors' parameters.

    Returns
    -------
    (S, M) float64. Uses Σ_d (z_d - m_d)² / v_d = z²·(1/v) - 2 z·(m/v) + Σ m²/v.
    """
    return _log_density(*(torch.as_tensor(np.asarray(a, np.float64))
                          for a in (z, mean, logvar))).numpy()


def _log_density(z: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    inv = torch.exp(-logvar)                                # (M, D)
    quad = (z * z) @ inv.T - 2.0 * z @ (mean * inv).T + (mean * mean * inv).sum(1)[None]
    d = mean.shape[1]
    return -0.5 * (quad.clamp_min(0.0) + logvar.sum(1)[None] + d * math.log(2 * math.pi))


def mutual_information(mean: np.ndarray, logvar: np.ndarray, seed: int = 0) -> float:
    """He et al.'s estimate of I(x; z) under q, in nats (see the module docstring).

    Parameters
    ----------
    mean, logvar : (M, D) the Gaussian posteriors q(z|x_i) of M images (a snapshot's
        ``map_latents`` and ``map_latent_logvar``).
    seed : draws the images of the outer mean and their z; the same seed, the same estimate.

    Returns
    -------
    float, in [0, log M] up to the Monte Carlo noise of one draw per image (a slightly
    negative value is possible for a collapsed code); NaN for fewer than 2 images.
    """
    mean = np.asarray(mean, np.float64)
    logvar = np.asarray(logvar, np.float64)
    if mean.ndim != 2 or mean.shape != logvar.shape:
        raise ValueError(f"mean and logvar must be (M, D) of one shape, got {mean.shape} "
                         f"and {logvar.shape}")
    m, d = mean.shape
    if m < 2:
        return float("nan")
    rng = np.random.default_rng(seed)
    # E_q(z|x)[log q(z|x)] of a diagonal Gaussian: -D/2 log 2π - 1/2 Σ (1 + logvar).
    neg_entropy = float(np.mean(-0.5 * d * math.log(2 * math.pi) - 0.5 * (1 + logvar).sum(1)))
    some = rng.permutation(m)[:SAMPLES] if m > SAMPLES else np.arange(m)
    z = mean[some] + np.exp(0.5 * logvar[some]) * rng.standard_normal((len(some), d))
    log_q = _log_density(torch.from_numpy(z), torch.from_numpy(mean), torch.from_numpy(logvar))
    log_qz = torch.logsumexp(log_q, dim=1) - math.log(m)
    return neg_entropy - float(log_qz.mean())


def marginal_kl(mean_kl: float, mi: float) -> float:
    """KL(q(z) ‖ p(z)) = E_x KL(q(z|x) ‖ p(z)) - I(x; z): the KL that carries no
    information about x (ELBO surgery), from the mean KL and the estimate above."""
    return float(mean_kl) - float(mi)
