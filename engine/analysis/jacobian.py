"""Singular values of the encoder Jacobian at probe points: what contraction does.

The Jacobian J(x) = d E_q[z|x] / dx (the code h for a deterministic encoder,
the mean for a VAE) says how the code moves when the input moves. A
contractive autoencoder penalises ||J||_F^2, which presses the singular
values down in every direction except the few along the data manifold
(Rifai et al. 2011): its spectrum falls off steeply, a plain one's does not.

Cost: one Jacobian per point, D x N with N = C*H*W, by reverse mode (D
vector-Jacobian products) or forward mode (N Jacobian-vector products),
whichever is fewer, all batched with ``torch.func.vmap``. The singular values
of a wide matrix come from the eigenvalues of its R x R Gram matrix
(R = min(D, N)): 2-3 times faster than an SVD for the 256-1024-unit codes of
the presets (see ``benchmarks/bench_snapshot_views.py``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.func import jacfwd, jacrev, vmap

#: Points of the probe set whose spectrum a snapshot carries (the first ones).
JACOBIAN_POINTS = 16
#: Up to this R an exact SVD is cheap; above it the Gram matrix is used.
_SVD_UP_TO = 64


def _code_function(model: nn.Module):
    """x (B, C, H, W) -> E_q[z|x] (B, D), differentiable in x."""
    encoder = getattr(model, "encoder", None)
    if encoder is not None and hasattr(encoder, "code_activations"):
        return encoder.code_activations
    return model.encode_mean


def encoder_jacobian(model: nn.Module, x: Tensor) -> Tensor:
    """d E_q[z|x] / dx at each image, flattened over the input.

    Parameters
    ----------
    model : an autoencoder (anything with ``encoder.code_activations`` or
        ``encode_mean``), in eval mode.
    x : (J, C, H, W) inputs (clean probe images).

    Returns
    -------
    (J, D, N) float32, N = C*H*W: row d holds the gradient of code unit d.
    """
    code = _code_function(model)

    def one(xi: Tensor) -> Tensor:  # (C, H, W) -> (D,)
        return code(xi.unsqueeze(0)).squeeze(0)

    with torch.enable_grad():  # a snapshot runs under no_grad; the transforms need autograd
        d = one(x[:1].squeeze(0).detach()).shape[0] if x.shape[0] else 0
        n = x[0].numel() if x.shape[0] else 0
        # Reverse mode costs D products per point, forward mode N: take the fewer.
        jac = vmap(jacrev(one) if d <= n else jacfwd(one))(x.detach())
    return jac.reshape(x.shape[0], -1, n).detach()


def singular_values(jac: Tensor) -> Tensor:
    """Singular values of each matrix of a batch, descending.

    Parameters
    ----------
    jac : (J, D, N)

    Returns
    -------
    (J, R) float32, R = min(D, N), descending, >= 0.
    """
    j, d, n = jac.shape
    r = min(d, n)
    if r <= _SVD_UP_TO:
        return torch.linalg.svdvals(jac.double()).float()
    # sigma_i^2 are the eigenvalues of the R x R Gram matrix. It is formed in float32
    # (a BLAS-3 product, the bulk of the cost) and diagonalised in float64; values below
    # ~1e-3 sigma_max lose relative precision, which a log-scale view shows as a floor.
    gram = jac @ jac.mT if d <= n else jac.mT @ jac
    eig = torch.linalg.eigvalsh(gram.double())          # ascending
    return eig.clamp_min(0.0).sqrt().flip(-1).float()


def encoder_jacobian_spectrum(model: nn.Module, x: Tensor) -> Tensor:
    """Singular values of the encoder Jacobian at each input.

    Parameters
    ----------
    model : an autoencoder in eval mode.
    x : (J, C, H, W) inputs; a snapshot passes the first
        ``min(P, JACOBIAN_POINTS)`` clean probe images.

    Returns
    -------
    (J, R) float32 descending, R = min(D, C*H*W).
    """
    return singular_values(encoder_jacobian(model, x))


def frobenius_norm(spectrum: Tensor) -> Tensor:
    """||J||_F = sqrt(sum of squared singular values), (J, R) -> (J,)."""
    return spectrum.double().pow(2).sum(-1).sqrt().to(spectrum.dtype)
