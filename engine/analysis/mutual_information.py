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

    I ≈ mean_i [ log q(z_i|x_i) - log q(z_i) ],   z_i ~ q(z|x_i),   q(z) ≈ 1/M Σ_j q(z|x_j)

He et al. take the first term's expectation in closed form (minus the
entropy); here it is read at the same draw z_i as the second. The
expectation is the same, but the two terms' draws cancel: one z per image
moves log N(z; mu, σ²) by about sqrt(D/2) nats, so the closed form left
about sqrt(D / 2M) nats of noise — ±0.6 nats for a 20-dimensional code on 30
images, and the same error at every epoch since the draws are seeded. An
untrained VAE then showed 0.7 nats where it carries none; now a code that
carries nothing reads 0 exactly.

**How far to trust it.** The estimate is I(x; z) for x drawn from the M
images, so it cannot exceed log M (each z_i is most likely under its own
posterior): with 1,000 images, 6.9 nats. Checked against linear-Gaussian
encoders with known I(x; z) (``tests/engine/test_mutual_information.py``):
below about log M - 2 nats it is within about 0.1 nats of the truth plus its
noise (about ±0.1 nats on 100 images, ±0.05 on 1,000); above that it reads
low, and a code that tells the images apart reads log M whatever it
carries. The views draw log M beside it for that reason. He et al. average
it over mini-batches of their test set; here the M map images form one batch
(a larger M, a higher ceiling). The outer mean over images is taken over
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
    float, at most log M; about 0 for a code that carries nothing (slightly negative is
    possible on a weakly informative one: Monte Carlo noise); NaN for fewer than 2 images.
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
    some = rng.permutation(m)[:SAMPLES] if m > SAMPLES else np.arange(m)
    z = mean[some] + np.exp(0.5 * logvar[some]) * rng.standard_normal((len(some), d))
    log_q = _log_density(torch.from_numpy(z), torch.from_numpy(mean), torch.from_numpy(logvar))
    own = log_q[torch.arange(len(some)), torch.from_numpy(some)]     # log q(z_i | x_i)
    log_qz = torch.logsumexp(log_q, dim=1) - math.log(m)              # log q(z_i)
    return float((own - log_qz).mean())
