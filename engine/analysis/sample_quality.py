"""Sample quality: the Fréchet distance (FID) and precision / recall of two sets of features.

Both compare the features of a model's samples with those of held-out
images; :mod:`engine.analysis.quality_probe` chooses the feature space (a
digit classifier's features, or data space itself for 2-D points).

**Fréchet distance** (Heusel et al. 2017, "GANs trained by a two time-scale
update rule"): fit a Gaussian to each set of features, N(μ₁, Σ₁) and
N(μ₂, Σ₂), and take the squared 2-Wasserstein distance between them::

    d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½)

Zero for identical Gaussians; a shift by δ adds ‖δ‖²; for diagonal
covariances it is Σ_d (μ₁d − μ₂d)² + (σ₁d − σ₂d)². It reads first and second
moments only, and is biased upwards for small sets (two samples of the same
distribution do not score 0): compare runs at the same sample size.

**Precision and recall** (Kynkäänniemi et al. 2019, "Improved precision and
recall metric for assessing generative models"): the manifold of a set is
the union of balls around its points, each with the radius of the distance
to that point's k-th nearest neighbour in the set (k = 3). *Precision* is the
share of samples that fall inside the manifold of the real images (are the
samples realistic?), *recall* the share of real images inside the manifold
of the samples (does the model cover the data? a GAN that drops modes loses
recall, not precision).
"""

from __future__ import annotations

import numpy as np
import torch

#: Kynkäänniemi et al.'s neighbourhood size.
K_NEAREST = 3


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) of features (N, D), float64, covariance with ddof 1."""
    f = np.asarray(features, np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features should be (N >= 2, D), not shape {f.shape}")
    return f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False))


def psd_sqrt(cov: np.ndarray) -> np.ndarray:
    """The symmetric square root of a positive semi-definite matrix (eigenvalues below 0,
    from rounding, taken as 0)."""
    cov = np.atleast_2d(np.asarray(cov, np.float64))
    w, v = np.linalg.eigh((cov + cov.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray,
                     cov2: np.ndarray, root1: np.ndarray | None = None) -> float:
    """d² between N(mu1, cov1) and N(mu2, cov2) (see the module docstring).

    Tr (Σ₁Σ₂)^½ is computed as Σ √λ of the symmetric matrix Σ₁^½ Σ₂ Σ₁^½, which has
    the same eigenvalues as Σ₁Σ₂: real and non-negative, no complex round-off to drop.
    ``root1``: Σ₁^½ when already known (:func:`psd_sqrt`; the held-out images' Gaussian
    is the same every epoch).

    Returns
    -------
    float, >= 0.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    cov1, cov2 = np.atleast_2d(cov1).astype(np.float64), np.atleast_2d(cov2).astype(np.float64)
    root1 = psd_sqrt(cov1) if root1 is None else root1
    middle = root1 @ cov2 @ root1
    eig = np.linalg.eigvalsh((middle + middle.T) / 2)
    tr_sqrt = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    diff = mu1 - mu2
    d2 = float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * tr_sqrt)
    return max(d2, 0.0)


def fid(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to two feature sets (N, D) and (M, D)."""
    return frechet_distance(*gaussian_stats(features_a), *gaussian_stats(features_b))


def squared_distances(a, b) -> np.ndarray:
    """Squared Euclidean distances (N, M) between the rows of a (N, D) and b (M, D), float64.

    In torch: its elementwise work is two to three times numpy's on this machine, and the
    trainer's thread budget holds (numpy's BLAS threads would not follow it).
    """
    return _squared(_f64(a), _f64(b)).numpy()


def _f64(x) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, np.float64))


def _squared(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    d2 = torch.mm(a, b.T).mul_(-2.0)
    return d2.add_((a * a).sum(1)[:, None]).add_((b * b).sum(1)[None, :]).clamp_min_(0.0)


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances (N, M) between the rows of a (N, D) and b (M, D), float64."""
    return np.sqrt(squared_distances(a, b))


def _kth_radii(points: torch.Tensor, k: int) -> torch.Tensor:
    """(N,) distance of each point to its k-th nearest other point of the set."""
    n = len(points)
    if n <= k:
        raise ValueError(f"a manifold of k={k} neighbours needs more than {k} points "
                         f"(got {n})")
    d2 = _squared(points, points)
    d2.fill_diagonal_(float("inf"))                 # not its own neighbour
    return torch.kthvalue(d2, k, dim=1).values.sqrt_()


def knn_radii(points: np.ndarray, k: int = K_NEAREST) -> np.ndarray:
    """(N,) distance from each point to its k-th nearest other point of the set."""
    return _kth_radii(_f64(points), k).numpy()


def inside_manifold(queries: np.ndarray, points: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """(Q,) bool: whether each query lies in some ball (points[j], radii[j])."""
    d2 = _squared(_f64(queries), _f64(points))
    return (d2 <= _f64(radii).square()[None, :]).any(dim=1).numpy()


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = K_NEAREST,
                     real_radii: np.ndarray | None = None) -> tuple[float, float]:
    """Kynkäänniemi et al.'s precision and recall of samples ``fake`` against ``real``.

    Parameters
    ----------
    real : (N, D) features of held-out images.
    fake : (M, D) features of the model's samples.
    k : the neighbour whose distance is a point's radius.
    real_radii : (N,) ``knn_radii(real, k)``, when already known (it is the same every epoch).

    Returns
    -------
    (precision, recall), each in [0, 1].

    One (M, N) matrix of squared distances serves both: sample j lies in real ball i,
    and real point i in sample ball j, read from the same entry.
    """
    r, f = _f64(real), _f64(fake)
    radii = _kth_radii(r, k) if real_radii is None else _f64(real_radii)
    fake_radii = _kth_radii(f, k)
    d2 = _squared(f, r)                                                   # (M, N)
    precision = float((d2 <= radii.square()[None, :]).any(dim=1).double().mean())
    recall = float((d2 <= fake_radii.square()[:, None]).any(dim=0).double().mean())
    return precision, recall
